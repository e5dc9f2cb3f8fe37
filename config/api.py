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
from django.db import IntegrityError
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
        if exc.status_code in DENIED_STATUSES:
            _audit_denial(context, exc.status_code)
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif exc.__class__.__name__ == "TransitionNotAllowed":  # django-fsm, without importing it here
        exc = Conflict()
    elif isinstance(exc, IntegrityError) and _is_unique_violation(exc):
        # A concurrent write won a unique constraint between a service's check and its insert
        # (two creates of one username at once): the service's transaction rolled back — say
        # so, without the database's message, which quotes the conflicting value. Other
        # integrity errors (not-null, foreign key, check) are bugs and stay 500s, logged.
        logger.warning("unique-constraint conflict in %s", context.get("view").__class__.__name__)
        exc = Conflict("That conflicts with a change saved at the same moment; reload and try again.")
    response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected error: log the type only (the message may carry data), answer 500 plainly.
        logger.error("unhandled %s in %s", type(exc).__name__, context.get("view").__class__.__name__)
        return None
    if isinstance(exc, exceptions.NotFound):
        response.data = {"detail": "Not found.", "code": "not_found"}
    else:
        response.data = _one_shape(exc, response.data)
    if response.status_code in DENIED_STATUSES:
        _audit_denial(context, response.status_code)
    return response


#: The framework's validation messages, by their code, in the client's words (SPEC §6: say what
#: to send). Codes not listed keep the field's own message.
CLIENT_MESSAGES = {
    "required": "Send this field.",
    "null": "Send a value: null is not allowed here.",
    "blank": "Send a value: it may not be empty.",
    "incorrect_type": "Send an id (a whole number), e.g. 3.",
    "does_not_exist": "Send the id of an existing one that you may see, e.g. 3.",
    "not_a_list": 'Send a list, e.g. ["a", "b"].',
    "not_a_dict": 'Send an object, e.g. {"key": "value"}.',
    "empty": "Send at least one value.",
}


def _field_messages(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """A validation error's details as one flat map: nested fields as `youth.first_name`, list
    items as `aliases.0`; errors not about a field under `non_field_errors`."""
    out: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_field_messages(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and any(isinstance(item, (dict, list)) for item in data):
        for index, item in enumerate(data):
            if item:
                out.update(_field_messages(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items = data if isinstance(data, list) else [data]
        out[prefix or "non_field_errors"] = [
            CLIENT_MESSAGES.get(getattr(item, "code", ""), str(item)) for item in items
        ]
    return out


def _one_shape(exc: exceptions.APIException, data: Any) -> dict[str, Any]:
    """SPEC §6: every error is `{"code", "detail", "errors"?}`, whatever raised it."""
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_messages(data)
        named = ", ".join(k for k in errors if k != "non_field_errors")
        detail = f"Check these fields and send them again: {named}." if named else next(iter(errors.values()))[0]
        return {"code": "invalid", "detail": detail, "errors": errors}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail = data.get("detail", exc.default_detail) if isinstance(data, dict) else exc.default_detail
    body: dict[str, Any] = {"code": str(code), "detail": str(detail)}
    return body


def _is_unique_violation(exc: IntegrityError) -> bool:
    """PostgreSQL's UniqueViolation (psycopg, under Django's wrapper), or SQLite's "UNIQUE
    constraint failed"."""
    cause = exc.__cause__
    return type(cause).__name__ == "UniqueViolation" or str(exc).startswith("UNIQUE constraint failed")


#: Answers that refuse an authenticated caller: not allowed (403) or not visible to them (404).
DENIED_STATUSES = frozenset({status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND})


def _audit_denial(context: dict, status_code: int) -> None:
    """SPEC §5: a refused read or write is itself an audit event (`permission_denied`, outcome
    `denied`). The one place denials are recorded, for every API view: 403 (visible but not
    allowed) and 404 (not visible — an attempt at an object one may not see is recorded too,
    the caller still learns nothing). Anonymous callers have no actor and are not recorded. The
    event has ids and codes only, and its own transaction: the refused change was rolled back."""
    from django.db import transaction

    from audit.models import AuditEvent
    from audit.services import audit_record

    request = context.get("request")
    view = context.get("view")
    user = getattr(request, "user", None)
    if view is None or user is None or not getattr(user, "is_authenticated", False):
        return
    # The ids of the path (the object, a nested note or team member…) — only values an id can
    # be (a path may carry any number of digits); never a free-text or secret path part.
    ids = {k: v for k, v in (getattr(view, "kwargs", None) or {}).items() if isinstance(v, int) and 0 <= v < 2**63}
    object_type = getattr(view, "audit_object_type", "") or _snake(type(view).__name__.removesuffix("Api"))
    detail: dict[str, Any] = {"method": request.method, "status": status_code}
    detail.update({k: v for k, v in ids.items() if k != "pk"})
    with transaction.atomic():
        audit_record(
            actor=user,
            action=AuditEvent.Action.PERMISSION_DENIED,
            object_type=object_type,
            object_id=ids.get("pk", ""),
            outcome=AuditEvent.Outcome.DENIED,
            detail=detail,
        )


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):  # type: ignore[no-untyped-def]
        # DRF answers 404 for a page number that is not a page ("0", "x", past the end): that
        # would read as "no such object" on a list whose 404 means "not visible". It is the
        # caller's mistake: 400, saying what to send.
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            raise ApplicationError(
                "Send a page number from 1 to the last page (see `next` and `count`).",
                fields={self.page_query_param: ["Send a whole number from 1 to the last page."]},
            ) from None


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


def _has_nul(value: Any) -> bool:
    """PostgreSQL stores no NUL character in text or JSON: such input is refused at the door."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


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
        if _has_nul(data):
            raise exceptions.ParseError("Text may not contain NUL characters.")
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


# --- time input -----------------------------------------------------------------------------------
#: Times outside these years are typing mistakes; refusing them keeps clock arithmetic and
#: PostgreSQL (which refuses offsets beyond ±15:59 and years past 294276) away from nonsense.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def _bounded_utc(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            return None
    return value


def _iso_datetime_filter() -> Any:
    import django_filters
    from django import forms
    from django_filters.fields import IsoDateTimeField

    class BoundedIsoDateTimeField(IsoDateTimeField):
        def strptime(self, value: str, format: str) -> Any:  # noqa: A002
            parsed = _bounded_utc(super().strptime(value, format))
            if parsed is None:
                raise ValueError("out of range")
            return parsed

        def to_python(self, value: Any) -> Any:
            result = super().to_python(value)
            if result is not None and _bounded_utc(result) is None:
                raise forms.ValidationError(f"Must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
            return _bounded_utc(result) if result is not None else None

    class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
        """An ISO 8601 time filter that answers 400 for impossible times instead of letting the
        database fail on them."""

        field_class = BoundedIsoDateTimeField

    return BoundedIsoDateTimeFilter


BoundedIsoDateTimeFilter = _iso_datetime_filter()
