"""Session limits for the Django admin (SPEC §1): 30 minutes idle, 12 hours at most, like tokens.

The session store alone cannot do both: SESSION_SAVE_EVERY_REQUEST slides its expiry on every
request, so it would never end a busy session. This middleware keeps the login time and the time
of the last request in the session and logs out (deleting the session row) past either limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SESSION_IDLE_LIMIT = timedelta(minutes=30)
SESSION_ABSOLUTE_LIMIT = timedelta(hours=12)
LOGIN_AT = "harbor_login_at"
SEEN_AT = "harbor_seen_at"
#: Read by the logout audit receiver: why the session ended.
END_REASON_ATTR = "harbor_session_end_reason"


def session_stamp_login(request: HttpRequest | None) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def session_end_reason(session: object, now: float) -> str | None:
    """Why an authenticated session must end now, or None while it may go on."""
    login_at = session.get(LOGIN_AT)  # type: ignore[attr-defined]
    seen_at = session.get(SEEN_AT)  # type: ignore[attr-defined]
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "unstamped"  # from before these limits, or written by hand: fail closed
    if now - login_at > SESSION_ABSOLUTE_LIMIT.total_seconds():
        return "absolute"
    if now - seen_at > SESSION_IDLE_LIMIT.total_seconds():
        return "idle"
    return None


class SessionLimitsMiddleware:
    """After AuthenticationMiddleware: ends a logged-in session past its limits before any view
    sees it (the request goes on as anonymous, so the admin answers with its login page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        # Token (API) requests carry no session login: request.user here is the session's user.
        if session is not None and user is not None and user.is_authenticated:
            now = time.time()
            reason = session_end_reason(session, now)
            if reason is not None:
                setattr(request, END_REASON_ATTR, reason)
                logout(request)  # flushes: the session row is deleted; user_logged_out is audited
            else:
                session[SEEN_AT] = int(now)
        return self.get_response(request)
