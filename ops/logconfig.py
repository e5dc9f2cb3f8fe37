"""Structured logs (SPEC §7): structlog on top of the standard library's logging.

Every line — Django's, Celery's, gunicorn's, the app's own `logging.getLogger(__name__)` lines and
structlog's — is rendered by one `ProcessorFormatter`: JSON in production (one object a line),
readable key=value lines in `make run` (`HARBOR_LOG_FORMAT=console`). Each line of a request
carries `request_id`, `user_id` and `agency_id` (the agency's id: a code or a name would be
looked up); each line of a Celery task carries `task_id`, `task` and the `request_id` of the
request that enqueued it (ops/signals.py binds them).

What a line may carry: ids, codes, counts, class names, routes (`api/v1/cases/<int:pk>/`, never
a path with its values or query). Never a name, a date of birth, a narrative or note text, an
address, a token or a feed secret — tests/ops/log_scrub.py fails the suite if one appears. The
secret-path filter (core/logging_filters.py) stays on every handler as the last guard.

This module is imported by the settings: it must not import models.
"""

from __future__ import annotations

import contextvars
from typing import Any

import structlog

from core.middleware import request_id_var

#: The current request (set by ops.middleware.RequestLogMiddleware): the user is read from it at
#: the time of each line, because DRF authenticates inside the view.
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar("harbor_current_request", default=None)


def _loaded_user(request: Any) -> Any:
    """The request's user if it is already known — never a database query from a log line."""
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)
    from django.utils.functional import empty

    if wrapped is empty or wrapped is None:
        return None
    return wrapped


def add_request_context(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    rid = request_id_var.get()
    if rid and "request_id" not in event_dict:
        event_dict["request_id"] = rid
    request = current_request.get()
    if request is not None:
        user = _loaded_user(request)
        if user is not None and getattr(user, "is_authenticated", False):
            event_dict.setdefault("user_id", user.pk)
            event_dict.setdefault("agency_id", getattr(user, "agency_id", None))
    return event_dict


_PLAIN = (str, int, float, bool, type(None))


def _sanitize(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Extras become fields of the line: a string is masked like a path (tokens, query strings),
    anything that is not a plain value is reduced to its type's name — `request` (which Django
    attaches to its request log lines, and whose repr is the path with its token) is dropped."""
    from core.logging_filters import mask_secrets

    event_dict.pop("color_message", None)
    event_dict.pop("request", None)
    for key, value in list(event_dict.items()):
        if key.startswith("_") or key in ("exc_info", "stack_info"):
            continue
        if isinstance(value, str):
            event_dict[key] = mask_secrets(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, _PLAIN) for v in value):
            event_dict[key] = [mask_secrets(v) if isinstance(v, str) else v for v in value]
        elif not isinstance(value, _PLAIN):
            event_dict[key] = f"<{type(value).__name__}>"
    return event_dict


#: Run on every line, structlog's and the standard library's ("foreign") alike.
SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    add_request_context,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _sanitize,
]


def _mask_exception(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A traceback is rendered afresh from the exception (not from the record's masked text):
    an exception message can quote a path with its token."""
    from core.logging_filters import mask_secrets

    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = mask_secrets(event_dict[key])
    return event_dict


def formatter(kind: str) -> dict[str, Any]:
    """A logging.config formatter entry: "json" or "console"."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if kind == "console"
        else structlog.processors.JSONRenderer(sort_keys=False, default=str)
    )
    tail: list[Any] = [structlog.processors.format_exc_info, _mask_exception]
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": SHARED_PROCESSORS,
        "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
    }


def structlog_configure() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
