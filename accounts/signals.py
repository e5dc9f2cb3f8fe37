"""Authentication events from Django and axes into the audit log (SPEC §5)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from audit.models import AuditEvent
from audit.services.record import audit_record


def _user_id_for(username: str | None) -> int | None:
    from .models import User

    if not username:
        return None
    return User.objects.filter(username=username).values_list("pk", flat=True).first()


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # The attempted username is not recorded (it may be a mistyped password); the user id is,
    # when the name is a real account.
    with transaction.atomic():
        audit_record(
            actor=None,
            action=AuditEvent.Action.LOGIN_FAILED,
            object_type="user",
            object_id=_user_id_for(credentials.get("username")) or "",
            outcome=AuditEvent.Outcome.FAILURE,
            # The caller is told nothing about which part failed; the audit log says so.
            detail={"reason": "otp"} if credentials.get("otp_failed") else {},
        )


@receiver(user_logged_in)
def stamp_session_times(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # The admin-session limits (accounts.middleware) count from here: a session without these
    # stamps is ended, so every login path must pass through this receiver (login() does).
    from .middleware import session_stamp_login

    session_stamp_login(request)


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None, **kwargs: Any
) -> None:
    with transaction.atomic():
        audit_record(
            actor=None,
            action=AuditEvent.Action.LOCKOUT,
            object_type="user",
            object_id=_user_id_for(username) or "",
            outcome=AuditEvent.Outcome.DENIED,
        )


def _session_via(request: Any) -> str:
    """Which door a session login or logout went through: the web app marks its sign-in and
    sign-out (web/auth.py); a session the limits end (accounts.middleware) is judged by the
    path it was ended on — the web app's pages live under /app/."""
    marked = getattr(request, "harbor_login_via", None)
    if marked:
        return str(marked)
    return "web" if str(getattr(request, "path", "")).startswith("/app/") else "admin"


@receiver(user_logged_in)
def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # The API's token login records its own event; this is a session login: the admin site's,
    # or the web app's.
    via = _session_via(request)
    with transaction.atomic():
        audit_record(
            actor=user, action=AuditEvent.Action.LOGIN, object_type="user", object_id=user.pk, detail={"via": via}
        )


@receiver(user_logged_out)
def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .middleware import END_REASON_ATTR

    if user is not None:
        detail = {"via": _session_via(request)}
        reason = getattr(request, END_REASON_ATTR, None)
        if reason:
            detail["reason"] = reason  # the session limits ended it (idle, absolute, unstamped)
        with transaction.atomic():
            audit_record(
                actor=user, action=AuditEvent.Action.LOGOUT, object_type="user", object_id=user.pk, detail=detail
            )
