"""Celery signal receivers: a heartbeat when the sweep or the audit seal completes; the watchdog
timer of each worker; the log context of each task (its id, and the enqueuing request's id).

Connected in OpsConfig.ready(). The receivers never raise into Celery: a heartbeat that cannot
be written (the database is down) is simply missing, and readiness reports the sweep stale.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from celery.signals import (
    before_task_publish,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    task_success,
    worker_ready,
)

from .heartbeats import TASK_HEARTBEATS, heartbeat_record

logger = logging.getLogger(__name__)


@task_success.connect(dispatch_uid="ops.heartbeat_on_success")
def heartbeat_on_success(sender: Any = None, **kwargs: Any) -> None:
    name = TASK_HEARTBEATS.get(getattr(sender, "name", ""))
    if name is None:
        return
    try:
        heartbeat_record(name)
    except Exception as exc:
        logger.warning("heartbeat %s not recorded (%s)", name, type(exc).__name__)


@worker_ready.connect(dispatch_uid="ops.watchdog_on_worker_ready")
def watchdog_on_worker_ready(**kwargs: Any) -> None:
    from django.conf import settings

    if getattr(settings, "HARBOR_WATCHDOG_INTERVAL", 60):
        from .watchdog import watchdog_timer_start

        watchdog_timer_start()


# --- log context of a task (ops/logconfig.py) ----------------------------------------------------

#: The message header that carries the enqueuing request's id to the worker.
REQUEST_ID_HEADER = "harbor_request_id"


@before_task_publish.connect(dispatch_uid="ops.request_id_to_task")
def request_id_to_task(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """A task enqueued by a request (or by a task that a request enqueued) carries its id."""
    if headers is None:
        return
    from core.middleware import request_id_var

    rid = request_id_var.get() or structlog.contextvars.get_contextvars().get("request_id")
    if rid and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = rid


@task_prerun.connect(dispatch_uid="ops.task_log_context")
def task_log_context(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()
    context: dict[str, Any] = {"task_id": task_id, "task": getattr(task, "name", None)}
    request = getattr(task, "request", None)
    rid = getattr(request, REQUEST_ID_HEADER, None) or (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    if not rid:
        from core.middleware import request_id_var

        rid = request_id_var.get()  # an eager task runs inside the request
    if rid:
        context["request_id"] = rid
    structlog.contextvars.bind_contextvars(**context)


@task_postrun.connect(dispatch_uid="ops.task_log_context_end")
def task_log_context_end(**kwargs: Any) -> None:
    structlog.contextvars.clear_contextvars()


# --- task outcomes (ops/metrics.py) ---------------------------------------------------------------


def _count(sender: Any, outcome: str) -> None:
    try:
        from .metrics import count_task
    except ImportError:
        return
    count_task(getattr(sender, "name", "") or "", outcome)


@task_success.connect(dispatch_uid="ops.count_success")
def count_success(sender: Any = None, **kwargs: Any) -> None:
    _count(sender, "success")


@task_failure.connect(dispatch_uid="ops.count_failure")
def count_failure(sender: Any = None, **kwargs: Any) -> None:
    _count(sender, "failure")


@task_retry.connect(dispatch_uid="ops.count_retry")
def count_retry(sender: Any = None, **kwargs: Any) -> None:
    _count(sender, "retry")
