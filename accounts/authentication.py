"""Token authentication: knox tokens (stored hashed), 30 minutes idle, 12 hours absolute."""

from __future__ import annotations

from knox.auth import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """Knox with idle and absolute expiry (REST_KNOX settings); an inactive user's token fails."""

    def authenticate_header(self, request):  # type: ignore[no-untyped-def]
        return "Token"


class IsAuthenticatedWithMfa:
    """The default permission: authenticated, and — for a user who must use MFA — enrolled.

    A user who must use MFA but has not enrolled yet can reach only views marked
    `mfa_enrollment_view = True` (who am I, enrol, confirm, logout)."""

    message = "Set up multi-factor authentication first (POST /api/v1/me/mfa/totp/)."

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        from .mfa import mfa_is_enrolled
        from .services import mfa_required_for

        user = request.user
        if not (user and user.is_authenticated):
            return False
        if getattr(view, "mfa_enrollment_view", False) or not mfa_required_for(user):
            return True
        return mfa_is_enrolled(user)

    def has_object_permission(self, request, view, obj) -> bool:  # type: ignore[no-untyped-def]
        return True
