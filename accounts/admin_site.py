"""The Django admin is where admins manage agency access (SPEC §1, §6).

Only the two admin roles may enter it. With MFA enforced, an admin must log in with a TOTP
code (django-otp's admin login form) and the session must be OTP-verified."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm

from core.permissions import is_admin


class HarborOTPAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """django-otp's admin login, without making people pick a device from a list: a six-digit
    code is checked against the user's own authenticator, anything else against their recovery
    codes. (Only the user's own confirmed devices are ever considered.)"""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is not None:
            return device
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        token = (self.cleaned_data.get("otp_token") or "").strip()
        model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
        return model.objects.filter(user=user, confirmed=True).first()

    def clean_otp(self, user):
        """A missing or wrong code is a failed login like a wrong password (SPEC §6): counted by
        axes toward the lockout and answered with the same message, never naming the part that
        was wrong. (AxesMiddleware turns a lockout reached here into its 429.)"""
        try:
            super().clean_otp(user)
        except forms.ValidationError:
            from .services import login_failed_after_password

            login_failed_after_password(request=self.request, username=self.cleaned_data.get("username") or "")
            raise self.get_invalid_login_error() from None


class HarborAdminSite(admin.AdminSite):
    site_header = "Safe Harbor — agency access"
    site_title = "Safe Harbor admin"
    index_title = "Agency access management"
    #: No "View site" link: the admin is for access management, and the staff's web app has its
    #: own sign-in (a link to "/" led to a debug 404).
    site_url = None

    @property
    def login_form(self):  # type: ignore[override]
        return HarborOTPAdminAuthenticationForm if settings.HARBOR_MFA_ENFORCED else AdminAuthenticationForm

    @property
    def login_template(self):  # type: ignore[override]
        # django-otp's admin login page adds the one-time code field to Django's.
        return "otp/admin111/login.html" if settings.HARBOR_MFA_ENFORCED else None

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated and is_admin(user)):
            return False
        if settings.HARBOR_MFA_ENFORCED:
            return bool(getattr(user, "is_verified", lambda: False)())
        return True
