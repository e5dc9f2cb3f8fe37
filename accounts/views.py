"""The one HTML page outside the admin: choosing a password from an invitation link."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect

from core.errors import ApplicationError

from . import services


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Django's one-time-link view (token check, validators on the form); the password is set by
    the service, which ends every token and session of the user and audits the change."""

    success_url = "/accounts/set-password/done/"

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
        return HttpResponseRedirect(self.get_success_url())
