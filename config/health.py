"""`/health/` (the process answers, its database and broker are reachable) and `/health/ready/`
(SPEC §7: database, broker, a sweep in the last 5 minutes, a worker answering a ping, the audit
sealed within a minute — ops/checks.py). 503 names the failing part. No secrets, no versions."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse


def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception:
        checks["database"] = "unavailable"
    try:
        from config.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        checks["broker"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", **checks}, status=200 if ok else 503)


def ready(request: HttpRequest) -> JsonResponse:
    """Whether this deployment does its work: 200 only when every part is ok; otherwise 503 with
    `failing` listing the parts (a load balancer or an operator reads the first one)."""
    from config.celery import app
    from ops.checks import failing, readiness

    checks = readiness(app)
    bad = failing(checks)
    body = {"status": "ok" if not bad else "unavailable", "failing": bad, **checks}
    return JsonResponse(body, status=503 if bad else 200)


# --- error pages ---------------------------------------------------------------------------------
# Django's own 400/403/404/500 pages are HTML; a client of this JSON API (and the schema) expects
# JSON, and none of them may carry a stack trace or echo the request.


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _error(400, "Bad request.", "invalid")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _error(403, "You do not have permission to perform this action.", "forbidden")


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _error(404, "Not found.", "not_found")


def server_error(request: HttpRequest) -> JsonResponse:
    return _error(500, "Server error.", "server_error")
