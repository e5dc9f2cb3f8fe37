"""API conventions shared by every app: the domain error, the exception handler, pagination,
the JSON parser and optimistic concurrency (ETag / If-Match)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import exceptions, pagination, parsers, serializers, status
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
    "does_not_exist": "Send one that exists and that you may see: an id such as 3, or an agency code such as DCFS.",
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
    """For large tables (audit events, notifications, deadlines): constant cost per page.

    A cursor is the caller's input like any other: one we did not give out (garbled, or
    well-formed with a position that is not a value of the ordering column) answers 400 in the
    one error shape, never DRF's 404 nor a database error on the position."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):  # type: ignore[no-untyped-def]
        self._model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):  # type: ignore[no-untyped-def]
        import base64
        import binascii
        from urllib.parse import parse_qs

        encoded = request.query_params.get(self.cursor_query_param)
        if encoded:
            # DRF's decoding skips what is not base64 and reads nothing as "the first page".
            try:
                tokens = parse_qs(base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii"))
            except (binascii.Error, UnicodeError, ValueError):
                raise _bad_cursor() from None
            if not tokens or not set(tokens) <= {"o", "r", "p"}:
                raise _bad_cursor()
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _bad_cursor() from None
        if cursor is not None and cursor.position is not None:
            cursor = cursor._replace(position=self._checked_position(cursor.position))
        return cursor

    def _checked_position(self, position: str) -> str:
        """The position is compared with the first ordering column: it must be a value that
        column can hold (a bounded time for a time column, an id for an id). Returned as the
        database should see it (a time in UTC: PostgreSQL refuses offsets beyond ±15:59)."""
        from django.db import models

        if "\x00" in position or len(position) > 100:
            raise _bad_cursor()
        ordering = self.ordering[0] if isinstance(self.ordering, (list, tuple)) else self.ordering
        model = getattr(self, "_model", None)
        try:
            field = model._meta.get_field(ordering.lstrip("-")) if model is not None else None
        except Exception:  # an annotation, not a model field: nothing more to check
            field = None
        if field is None:
            return position
        if isinstance(field, models.DateTimeField):
            try:
                return parse_client_time(position).isoformat()
            except TimeRejected:
                raise _bad_cursor() from None
        try:
            value = field.to_python(position)
        except DjangoValidationError:
            raise _bad_cursor() from None
        if isinstance(field, models.IntegerField) and not 0 <= value < 2**63:
            raise _bad_cursor()
        return position


def _bad_cursor() -> ApplicationError:
    return ApplicationError(
        "That cursor is not one this list gave out.",
        fields={"cursor": ["Send the cursor of a next or previous link of this list, or none for the first page."]},
    )


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
#
# SPEC §6: times are ISO 8601 with an offset (a time without one would be guessed), and every time
# or date a client sends lies between 1900 and 2100. One parser for bodies and query filters alike;
# the bounds are checked before any timezone conversion or clock arithmetic, so a year-1 time
# with a +14:00 offset, or the last second of year 9999, is a 400 and never an OverflowError (and
# PostgreSQL, which refuses offsets beyond ±15:59, only ever sees UTC).

EARLIEST_TIME = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
EARLIEST_DATE, LATEST_DATE = EARLIEST_TIME.date(), LATEST_TIME.date()
#: Longer than any ISO 8601 time (with microseconds and offset): refused without parsing.
_MAX_TIME_CHARS = 64

TIME_MESSAGES = {
    "invalid": "Send an ISO 8601 time with its offset, e.g. 2026-12-01T09:30:00-08:00.",
    "naive": "Send the time with its offset, e.g. 2026-12-01T09:30:00-08:00 or …T17:30:00Z: "
    "a time without one would be guessed.",
    "out_of_range": "Send a time between 1900-01-01T00:00:00Z and 2100-01-01T00:00:00Z.",
}
DATE_MESSAGES = {
    "invalid": "Send a date as YYYY-MM-DD, e.g. 2010-03-14.",
    "out_of_range": "Send a date between 1900-01-01 and 2100-01-01.",
}


class TimeRejected(ValueError):
    """A client's time or date refused; `code` is a key of TIME_MESSAGES / DATE_MESSAGES."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_client_time(value: Any) -> dt.datetime:
    """A time a client sent, as an aware datetime in UTC, or TimeRejected.

    Accepts an ISO 8601 string with an offset (or an aware datetime, for callers that parsed
    already). The wall-clock year is checked before the conversion to UTC (which is what
    overflows near year 1 and year 9999), the UTC instant after it."""
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, str) and len(value) <= _MAX_TIME_CHARS:
        try:
            parsed = parse_datetime(value.strip())
        except (ValueError, OverflowError):  # a well-formed but impossible time or offset
            parsed = None
    else:
        parsed = None
    if parsed is None:
        raise TimeRejected("invalid")
    try:
        offset = parsed.utcoffset()
    except (ValueError, OverflowError):
        raise TimeRejected("invalid") from None
    if offset is None:
        raise TimeRejected("naive")
    # Within a year of the bounds the conversion cannot overflow (offsets are under a day).
    if not EARLIEST_TIME.year - 1 <= parsed.year <= LATEST_TIME.year:
        raise TimeRejected("out_of_range")
    utc = parsed.astimezone(dt.UTC)
    if not EARLIEST_TIME <= utc <= LATEST_TIME:
        raise TimeRejected("out_of_range")
    return utc


def check_client_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TimeRejected("invalid")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise TimeRejected("out_of_range")
    return value


class BoundedDateTimeField(serializers.DateTimeField):
    """The one field for a time a client sends (bodies and query serializers): ISO 8601 with
    an offset, between 1900 and 2100 (SPEC §6). The value is given in the current timezone, as
    DRF's own field gives it (so wall-clock arithmetic, e.g. weekly series, keeps working)."""

    default_error_messages = dict(TIME_MESSAGES)

    def to_internal_value(self, value: Any) -> dt.datetime:
        try:
            return timezone.localtime(parse_client_time(value))
        except TimeRejected as rejected:
            self.fail(rejected.code)


class BoundedDateField(serializers.DateField):
    """The one field for a date a client sends: YYYY-MM-DD between 1900 and 2100."""

    default_error_messages = dict(DATE_MESSAGES)

    def to_internal_value(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            self.fail("invalid")
        if isinstance(value, str):
            try:
                parsed = parse_date(value.strip()) if len(value) <= _MAX_TIME_CHARS else None
            except ValueError:  # e.g. 2026-02-30
                parsed = None
            if parsed is None:
                self.fail("invalid")
            value = parsed
        try:
            return check_client_date(value)
        except TimeRejected as rejected:
            self.fail(rejected.code)


class BoundedDateTimeFormField(forms.DateTimeField):
    """BoundedDateTimeField for django-filter (query filters are Django form fields)."""

    default_error_messages = dict(TIME_MESSAGES)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        try:
            return timezone.localtime(parse_client_time(value))
        except TimeRejected as rejected:
            raise forms.ValidationError(self.error_messages[rejected.code], code=rejected.code) from None


class BoundedDateFormField(forms.DateField):
    default_error_messages = dict(DATE_MESSAGES)

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        try:
            parsed = parse_date(str(value).strip()) if len(str(value)) <= _MAX_TIME_CHARS else None
        except ValueError:
            parsed = None
        try:
            return check_client_date(parsed)  # type: ignore[arg-type]
        except TimeRejected as rejected:
            raise forms.ValidationError(self.error_messages[rejected.code], code=rejected.code) from None


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """A time filter (`?due_before=…`) with BoundedDateTimeField's rules: 400, never a 500."""

    field_class = BoundedDateTimeFormField


class BoundedDateFilter(django_filters.DateFilter):
    """A date filter (`?date_of_birth=…`) between 1900 and 2100."""

    field_class = BoundedDateFormField
