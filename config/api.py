"""API conventions shared by every app: the domain error, the exception handler, pagination,
the JSON parser and optimistic concurrency (ETag / If-Match)."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, parsers, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """The one domain error. `code` picks the HTTP status; `message` is safe to show."""

    STATUS = {
        "invalid": status.HTTP_400_BAD_REQUEST,
        "forbidden": status.HTTP_403_FORBIDDEN,
        "not_found": status.HTTP_404_NOT_FOUND,
        "conflict": status.HTTP_409_CONFLICT,
        "precondition_failed": status.HTTP_412_PRECONDITION_FAILED,
        "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "too_many": status.HTTP_429_TOO_MANY_REQUESTS,
    }

    def __init__(self, message: str, *, code: str = "invalid", fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}

    @property
    def status_code(self) -> int:
        return self.STATUS.get(self.code, status.HTTP_400_BAD_REQUEST)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it; fetch it again."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "That action is not allowed in the current state."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every error into the codes of SPEC §6, never a stack trace or a value the caller did
    not send."""
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.fields:
            body["errors"] = exc.fields
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif exc.__class__.__name__ == "TransitionNotAllowed":  # django-fsm, without importing it here
        exc = Conflict()
    response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected error: log the type only (the message may carry data), answer 500 plainly.
        logger.error("unhandled %s in %s", type(exc).__name__, context.get("view").__class__.__name__)
        return None
    if isinstance(exc, exceptions.NotFound):
        response.data = {"detail": "Not found.", "code": "not_found"}
    return response


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator):  # type: ignore[override]
        # A malformed page number is the caller's error (404 via DRF), not a crash.
        return super().get_page_number(request, paginator)


class CursorPagination(pagination.CursorPagination):
    """For large tables (audit events, notifications, deadlines): constant cost per page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


def _depth(value: Any, limit: int, depth: int = 0) -> int:
    if depth > limit:
        return depth
    if isinstance(value, dict):
        return max([_depth(v, limit, depth + 1) for v in value.values()] or [depth + 1])
    if isinstance(value, list):
        return max([_depth(v, limit, depth + 1) for v in value] or [depth + 1])
    return depth


class DepthLimitedJSONParser(parsers.JSONParser):
    """JSON parser that refuses bodies over the size limit (413) and absurdly deep nesting (413)."""

    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        from django.conf import settings

        try:
            data = super().parse(stream, media_type, parser_context)
        except RequestDataTooBig as exc:
            raise PayloadTooLarge() from exc
        except RecursionError as exc:
            raise PayloadTooLarge("JSON nested too deeply.") from exc
        if _depth(data, settings.HARBOR_MAX_JSON_DEPTH) > settings.HARBOR_MAX_JSON_DEPTH:
            raise PayloadTooLarge("JSON nested too deeply.")
        return data


# --- optimistic concurrency ----------------------------------------------------------------------


def etag_for(obj: Any) -> str:
    """A weak validator from the object's id and its last-change marker."""
    marker = getattr(obj, "updated_at", None) or getattr(obj, "version", None)
    raw = f"{obj.__class__.__name__}:{obj.pk}:{marker}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def check_if_match(request: Any, obj: Any) -> None:
    """A PATCH carrying a stale If-Match answers 412 and changes nothing."""
    header = request.headers.get("If-Match")
    if header and header.strip() != "*" and etag_for(obj) not in [h.strip() for h in header.split(",")]:
        raise PreconditionFailed()


def json_dumps_canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
