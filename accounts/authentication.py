"""Token authentication: knox tokens (stored hashed), 30 minutes idle, 12 hours absolute, and
the MFA gate."""

from __future__ import annotations

from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated

#: What a user who must use MFA but has not enrolled yet may reach with their token.
MFA_ENROLLMENT_PATHS = frozenset(
    {"/api/v1/me/", "/api/v1/me/mfa/totp/", "/api/v1/me/mfa/totp/confirm/", "/api/v1/auth/logout/"}
)


class ExpiringTokenAuthentication(TokenAuthentication):
    """Knox with idle and absolute expiry (REST_KNOX settings); an inactive user's token fails.

    The MFA gate lives here, not in a permission class, so that no view can drop it by setting
    its own `permission_classes`: a user who must use MFA but has not enrolled reaches only the
    enrolment paths (403 elsewhere)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        from .mfa import mfa_is_enrolled
        from .services import mfa_required_for

        user = result[0]
        if request.path not in MFA_ENROLLMENT_PATHS and mfa_required_for(user) and not mfa_is_enrolled(user):
            raise exceptions.PermissionDenied("Set up multi-factor authentication first (POST /api/v1/me/mfa/totp/).")
        return result

    def authenticate_header(self, request):
        return "Token"

    def _cleanup_token(self, auth_token):
        """Knox also loads every other token of the user on every request to delete the expired
        ones: a second query on every authenticated request, growing with the user's logins.
        Here only the presented token is judged (expired: deleted and refused, as knox does);
        the user's other expired tokens are deleted when they next log in (token_login)."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class IsAuthenticatedWithMfa(IsAuthenticated):
    """The default permission (MFA itself is enforced at authentication, above)."""
