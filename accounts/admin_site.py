"""The Django admin is where admins manage agency access (SPEC §1, §6).

Only the two admin roles may enter it. With MFA enforced, an admin must log in with a TOTP
code (django-otp's admin login form) and the session must be OTP-verified."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django_otp.admin import OTPAdminAuthenticationForm

from .permissions import is_admin


class HarborAdminSite(admin.AdminSite):
    site_header = "Safe Harbor — agency access"
    site_title = "Safe Harbor admin"
    index_title = "Agency access management"

    @property
    def login_form(self):  # type: ignore[override]
        return OTPAdminAuthenticationForm if settings.HARBOR_MFA_ENFORCED else AdminAuthenticationForm

    @property
    def login_template(self):  # type: ignore[override]
        # django-otp's admin login page adds the one-time code field to Django's.
        return "otp/admin111/login.html" if settings.HARBOR_MFA_ENFORCED else None

    def has_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        user = request.user
        if not (user.is_active and user.is_authenticated and is_admin(user)):
            return False
        if settings.HARBOR_MFA_ENFORCED:
            return bool(getattr(user, "is_verified", lambda: False)())
        return True
