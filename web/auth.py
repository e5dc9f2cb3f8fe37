"""Session sign-in and sign-out for the web app, made of the accounts services' own parts: the
same django-axes lockout, the same MFA check, the same answer for a wrong password and a wrong
code, the same audit events as the API's token login (SPEC §6, §8). The session limits (30
minutes idle, 12 hours at most) are accounts.middleware's, stamped by Django's login()."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest

from accounts.mfa import mfa_verify
from accounts.services import login_failed_after_password, mfa_required_for
from core.errors import ApplicationError

LOCKED_OUT = "Too many failed attempts. Try again in 10 minutes, or ask your agency admin."
INVALID = "That user name, password or code is not right. Check them and try again."
#: Read by accounts.signals: the audit says which door a session came in or left by.
VIA_ATTR = "harbor_login_via"


def _locked_out(request: HttpRequest) -> bool:
    locked = bool(getattr(request, "axes_locked_out", False))
    # The page answers a lockout itself (in the web's look); AxesMiddleware would otherwise
    # replace the page with the API's JSON 429. The lockout itself stands: axes recorded it.
    request.axes_locked_out = False  # type: ignore[attr-defined]
    return locked


def web_sign_in(*, request: HttpRequest, username: str, password: str, otp: str | None) -> Any:
    """Check the credentials and the code, and start a session; ApplicationError otherwise
    (`throttled` when locked out, `invalid` for anything wrong — one message for all of it)."""
    user = authenticate(request=request, username=username, password=password)
    if _locked_out(request):
        raise ApplicationError(LOCKED_OUT, code="throttled")
    if user is None:
        raise ApplicationError(INVALID)
    if not mfa_verify(user=user, otp=otp, required=mfa_required_for(user)):
        # Counted toward the lockout and audited like a wrong password, answered the same.
        login_failed_after_password(request=request, username=username)
        if _locked_out(request):
            raise ApplicationError(LOCKED_OUT, code="throttled")
        raise ApplicationError(INVALID)
    setattr(request, VIA_ATTR, "web")
    # login() rotates the session key (no fixation), stamps the session limits, resets the
    # axes failure count and audits the login (accounts.signals).
    login(request, user)
    return user


def web_sign_out(*, request: HttpRequest) -> None:
    """End the session: its row is deleted (flush), the logout audited."""
    setattr(request, VIA_ATTR, "web")
    logout(request)
