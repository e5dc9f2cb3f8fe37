"""Request-wide plumbing: a request id and client address for the audit log, security headers,
and a body-size limit that answers 413 before anything reads the body."""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    # Behind N proxies that each append to X-Forwarded-For, the client is the N-th hop from the
    # right (the address our outermost proxy saw); anything further left was sent by the client
    # and proves nothing. Without a declared proxy the header is ignored. Same rule as DRF's
    # throttles (REST_FRAMEWORK["NUM_PROXIES"]).
    proxies = getattr(settings, "HARBOR_NUM_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return hops[-min(proxies, len(hops))][:45] or None
    return (request.META.get("REMOTE_ADDR") or "")[:45] or None


#: A request id a client may choose (SPEC §5): a short token of safe characters. Anything else
#: (a name, an address, text meant for whoever reads the logs, a header-splitting attempt) is
#: replaced, so the audit log and the response header never carry what a client typed.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_from(incoming: str) -> str:
    """The client's X-Request-ID when it is a safe token, else a fresh one."""
    return incoming if SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_from(request.headers.get("X-Request-ID", ""))
        t1 = request_id_var.set(rid)
        t2 = client_ip_var.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(t1)
            client_ip_var.reset(t2)
        response["X-Request-ID"] = rid
        return response


class SecurityHeadersMiddleware:
    """CSP, frame-ancestors none, referrer policy and nosniff on every response."""

    API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    PAGE_CSP = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        response.setdefault("Content-Security-Policy", self.PAGE_CSP if html else self.API_CSP)
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.path.startswith("/api/v1/"):
            response.setdefault("Cache-Control", "no-store")
        return response


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length.", "code": "invalid"}, status=400)
        if length > settings.HARBOR_MAX_BODY_BYTES:
            return JsonResponse({"detail": "Request body too large.", "code": "too_large"}, status=413)
        # No NUL in a path or query: the database could not store or compare it (a 500 otherwise).
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, vs in request.GET.lists() for v in vs):
            return JsonResponse({"detail": "Invalid character in the request.", "code": "invalid"}, status=400)
        return self.get_response(request)
