// Safe Harbor web app. Loaded as a file (the content security policy allows no inline script).
(function () {
  "use strict";
  // After a failed submit the error summary takes the focus, so a keyboard or screen-reader user
  // hears what to fix first (USWDS validation pattern).
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
  // A confirmation step: a button with data-confirm-target reveals its confirmation panel (the
  // panel's own submit button does the action), and data-confirm-cancel hides it again.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-confirm-target]");
    if (opener) {
      var panel = document.getElementById(opener.getAttribute("data-confirm-target"));
      if (panel) {
        panel.hidden = false;
        opener.setAttribute("aria-expanded", "true");
        var first = panel.querySelector("textarea, input:not([type=hidden]), select, button");
        if (first) { first.focus(); }
      }
      return;
    }
    var cancel = event.target.closest("[data-confirm-cancel]");
    if (cancel) {
      var box = document.getElementById(cancel.getAttribute("data-confirm-cancel"));
      if (box) {
        box.hidden = true;
        var back = document.querySelector('[data-confirm-target="' + box.id + '"]');
        if (back) { back.setAttribute("aria-expanded", "false"); back.focus(); }
      }
    }
  });
})();
