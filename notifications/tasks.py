"""Celery tasks: thin, idempotent, ids only (SPEC §3)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, connections

from .services import deadlines_sweep, notification_send, retry_backoff

logger = logging.getLogger(__name__)


@shared_task(name="notifications.tasks.sweep_deadlines_task", ignore_result=True)
def sweep_deadlines_task() -> dict[str, int]:
    """The beat task (every minute): the same code as `manage.py sweep_deadlines`."""
    result = deadlines_sweep()
    return {"deadlines": result.deadlines, "notifications": result.notifications, "redelivered": result.redelivered}


@shared_task(
    bind=True,
    name="notifications.tasks.notification_send_task",
    ignore_result=True,
    # A worker killed mid-task leaves the message unacknowledged: it is delivered again, and the
    # send is idempotent (the row says whether it went out).
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # the attempts are counted in the database (HARBOR_NOTIFICATION_MAX_ATTEMPTS)
)
def notification_send_task(self, notification_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        result = notification_send(notification_id=notification_id)
    except DatabaseError as exc:
        # The database is unreachable for a moment: drop the broken connection and try again
        # with back-off. If it stays down past the retries, the row is still pending and the
        # redeliver step enqueues it again: retried, never lost.
        for conn in connections.all(initialized_only=True):
            if not conn.in_atomic_block:  # (a worker runs tasks outside any transaction)
                conn.close()
        if self.request.retries >= int(getattr(settings, "HARBOR_NOTIFICATION_DB_RETRIES", 8)):
            logger.warning("notification %s: database unavailable, left pending for redelivery", notification_id)
            return "deferred"
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries + 1))
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.outcome
