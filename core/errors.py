"""The one domain error and the one exception handler: every error the API gives, from any
layer (serializer, service, 404, throttle, unknown path), leaves in the shape of SPEC §6."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.signals import access_denied

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
        "throttled": status.HTTP_429_TOO_MANY_REQUESTS,
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
    elif isinstance(exc, exceptions.APIException):
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
    code = str(codes) if isinstance(codes, str) else str(exc.default_code)
    message = data.get("detail", exc.default_detail) if isinstance(data, dict) else exc.default_detail
    return {"code": code, "detail": str(message)}


def _is_unique_violation(exc: IntegrityError) -> bool:
    """PostgreSQL's UniqueViolation (psycopg, under Django's wrapper), or SQLite's "UNIQUE
    constraint failed"."""
    cause = exc.__cause__
    return type(cause).__name__ == "UniqueViolation" or str(exc).startswith("UNIQUE constraint failed")


#: Answers that refuse an authenticated caller: not allowed (403) or not visible to them (404).
DENIED_STATUSES = frozenset({status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND})


def _audit_denial(context: dict, status_code: int) -> None:
    """SPEC §5: a refused read or write is itself an audit event. The one place denials are
    announced, for every API view: 403 (visible but not allowed) and 404 (not visible). The
    audit app records them (audit/signals.py); core knows nothing of it. Anonymous callers have
    no actor and are not announced. Only ids and codes travel: the path ids that can be ids."""
    request = context.get("request")
    view = context.get("view")
    user = getattr(request, "user", None)
    if view is None or user is None or not getattr(user, "is_authenticated", False):
        return
    # The ids of the path (the object, a nested note or team member…) — only values an id can
    # be (a path may carry any number of digits); never a free-text or secret path part.
    ids = {k: v for k, v in (getattr(view, "kwargs", None) or {}).items() if isinstance(v, int) and 0 <= v < 2**63}
    object_type = getattr(view, "audit_object_type", "") or _snake(type(view).__name__.removesuffix("Api"))
    access_denied.send(
        sender=type(view),
        user=user,
        method=getattr(request, "method", ""),
        status_code=status_code,
        object_type=object_type,
        ids=ids,
    )


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))
