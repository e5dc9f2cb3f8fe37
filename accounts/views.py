"""The invitation (and reset) link's page: choosing a password. It is the first page of the web
app's first-time set-up (its look, /app/'s templates), reached at the link's own address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login, password_validation
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpResponse, HttpResponseRedirect

from core.errors import ApplicationError

from . import services
from .mfa import mfa_is_enrolled


class UswdsSetPasswordForm(SetPasswordForm):
    """Django's form and validators, with the web app's field markup (label, hint, message)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.label_suffix = ""
        self.required_css_class = "required"
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "usa-input"
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-hint"
        self.fields["new_password1"].help_text = " ".join(password_validation.password_validators_help_texts())

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = "usa-input usa-input--error"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{attrs.get('aria-describedby', '')} id_{name}-error".strip()


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Django's one-time-link view (token check, validators on the form); the password is set by
    the service, which ends every token and session of the user and audits the change.

    Then the person goes on with the web app's set-up: signed in (the link proved the mailbox,
    the form the new password), they enrol an authenticator when their role needs one, or land
    home. Someone who already has an authenticator signs in with it instead: a link never
    stands in for their second factor."""

    template_name = "web/set_password.html"
    form_class = UswdsSetPasswordForm
    success_url = "/app/setup/"

    def form_valid(self, form) -> HttpResponse:
        assert self.user is not None  # Django's view sets it once the link's token checked out
        try:
            services.user_password_set(user=self.user, password=form.cleaned_data["new_password1"])
        except ApplicationError as exc:
            for message in exc.fields.get("password", [exc.message]):
                form.add_error("new_password2", message)
            return self.form_invalid(form)
        # This browser's own session (it holds the one-time link's token) ends too.
        self.request.session.flush()
        if mfa_is_enrolled(self.user):
            return HttpResponseRedirect("/app/sign-in/")
        self.request.harbor_login_via = "web"  # type: ignore[attr-defined]
        login(self.request, self.user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(self.get_success_url())
