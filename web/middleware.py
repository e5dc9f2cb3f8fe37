"""What every page of the web app (/app/) shares, before and after its view:

- sign-in first: a page asked for without a session redirects to the sign-in page, which lands
  the person back on it afterwards (an emailed link opens its page once signed in);
- the MFA gate: a person whose role must use MFA but who has not enrolled reaches only the
  enrolment pages and sign-out, as the API's enrolment-only token does (SPEC §6);
- the strict content security policy: scripts, styles and fonts from this origin only, no
  inline script or style anywhere (SPEC §7);
- the web's own 404 and 403 pages: the same 404 for a page that does not exist and for an
  object the person may not see (SPEC §1), audited like the API's refusals (core's
  access_denied signal), and a page for a refused service action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from core.errors import ApplicationError
from core.signals import access_denied

WEB_PREFIX = "/app/"
SIGN_IN_PATH = "/app/sign-in/"
#: Reached without a session: signing in and the first-time set-up's password step.
PUBLIC_PREFIXES = ("/app/sign-in/", "/app/signed-out/")
#: All a person who must enrol in MFA first may reach.
ENROLMENT_PATHS = frozenset({"/app/setup/", "/app/setup/mfa/", "/app/sign-out/"})

WEB_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

#: The statuses a refused service action (ApplicationError) gets as a page.
_ERROR_TEMPLATES = {
    403: "web/errors/403.html",
    404: "web/errors/404.html",
    409: "web/errors/409.html",
    412: "web/errors/409.html",
    429: "web/errors/429.html",
}


def is_web_path(path: str) -> bool:
    return path.startswith(WEB_PREFIX)


def mfa_enrolment_pending(user: Any) -> bool:
    """The role must use MFA and no authenticator is enrolled yet (accounts' own rules)."""
    from accounts.mfa import mfa_is_enrolled
    from accounts.services import mfa_required_for

    return mfa_required_for(user) and not mfa_is_enrolled(user)


def error_page(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    template = _ERROR_TEMPLATES.get(status, "web/errors/409.html")
    response = TemplateResponse(request, template, {"message": message, "status": status}, status=status)
    return response.render()


def _announce_denial(request: HttpRequest, status: int) -> None:
    """The API's refusals are audited (core.errors._audit_denial); so are the pages'. Only the
    path's integer ids travel, never another part of it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    match = getattr(request, "resolver_match", None)
    kwargs = getattr(match, "kwargs", None) or {}
    ids = {k: v for k, v in kwargs.items() if isinstance(v, int) and 0 <= v < 2**63}
    object_type = getattr(getattr(match, "func", None), "audit_object_type", "") or "web_page"
    access_denied.send(
        sender=WebPagesMiddleware,
        user=user,
        method=request.method,
        status_code=status,
        object_type=object_type,
        ids=ids,
    )


class WebPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_web_path(request.path):
            return self.get_response(request)
        gate = self._gate(request)
        response = gate if gate is not None else self.get_response(request)
        if response.status_code in (403, 404) and not response.get("Content-Type", "").startswith("text/html"):
            # A path under /app/ that matched no page: the URL resolver's answer is the API's
            # JSON 404; a person gets the web's page.
            _announce_denial(request, response.status_code)
            response = error_page(request, response.status_code)
        response["Content-Security-Policy"] = WEB_CSP
        # Every page shows case data: never kept by the browser or a proxy.
        response["Cache-Control"] = "no-store"
        return response

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            if path.startswith("/app/set-password/"):
                return None
            query = urlencode({"next": path}) if path not in (WEB_PREFIX,) else ""
            return HttpResponseRedirect(f"{SIGN_IN_PATH}?{query}" if query else SIGN_IN_PATH)
        if path not in ENROLMENT_PATHS and mfa_enrolment_pending(user):
            return HttpResponseRedirect("/app/setup/mfa/")
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_web_path(request.path):
            return None
        if isinstance(exception, Http404):
            _announce_denial(request, 404)
            return error_page(request, 404)
        if isinstance(exception, PermissionDenied):
            _announce_denial(request, 403)
            return error_page(request, 403, str(exception) or "")
        if isinstance(exception, ApplicationError):
            status = exception.status_code
            if status in (403, 404):
                _announce_denial(request, status)
            return error_page(request, status, exception.message if status != 404 else "")
        return None
