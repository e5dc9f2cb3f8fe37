"""One structured line per request (route, status, duration, queries), with the request's ids.

Placed right after core's RequestContextMiddleware (which picks the request id). The line names
the route pattern (`api/v1/cases/<int:pk>/`), never the path: a path carries ids and tokens, a
query string what a person typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from django.db import connections
from django.http import HttpRequest, HttpResponse

from .logconfig import current_request

log = structlog.get_logger("harbor.request")


class _QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "<unmatched>"


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        counter = _QueryCounter()
        started = time.perf_counter()
        status = 500
        try:
            with connections["default"].execute_wrapper(counter):
                response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            duration = time.perf_counter() - started
            route = route_of(request)
            observe = _observer()
            if observe is not None:
                observe(request.method or "", route, status, duration, counter.count)
            log.info(
                "request",
                method=request.method,
                route=route,
                status=status,
                duration_ms=round(duration * 1000, 1),
                db_queries=counter.count,
            )
            current_request.reset(token)


def _observer() -> Callable[[str, str, int, float, int], None] | None:
    try:
        from .metrics import observe_request
    except ImportError:  # prometheus_client not installed
        return None
    return observe_request
