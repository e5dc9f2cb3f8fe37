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
  // The agenda builder: a row dragged with the mouse to a new place posts the whole order (the
  // Move up / Move down buttons do the same one step at a time, with the keyboard too).
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var row = event.target.closest && event.target.closest(".web-agenda-row[draggable=true]");
    if (!row) { return; }
    dragged = row;
    row.classList.add("web-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.getAttribute("data-item"));
  });
  document.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    var over = event.target.closest && event.target.closest(".web-agenda-row");
    if (!over || over === dragged || over.parentNode !== dragged.parentNode) { return; }
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });
  document.addEventListener("dragend", function () {
    if (!dragged) { return; }
    var list = dragged.parentNode;
    dragged.classList.remove("web-dragging");
    dragged = null;
    var form = document.getElementById(list.getAttribute("data-reorder-form"));
    if (!form) { return; }
    form.querySelectorAll("input[name=items]").forEach(function (input) { input.remove(); });
    list.querySelectorAll(".web-agenda-row").forEach(function (row) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "items";
      input.value = row.getAttribute("data-item");
      form.appendChild(input);
    });
    form.submit();
  });
  // Copy a value (the calendar feed's URL) to the clipboard: data-copy-target names the input.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) { return; }
    input.select();
    var done = function () {
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (status) { status.textContent = "Copied."; }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
