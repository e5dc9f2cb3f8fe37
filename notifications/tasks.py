"""Celery tasks: thin, idempotent, ids only (SPEC §3)."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core import mail
from django.db import DatabaseError, connections

from .services.delivery import notification_send, retry_backoff
from .services.digest import digests_send
from .services.sweep import deadlines_sweep

logger = logging.getLogger(__name__)


@shared_task(name="notifications.tasks.sweep_deadlines_task", ignore_result=True)
def sweep_deadlines_task() -> dict[str, int]:
    """The beat task (every minute): the same code as `manage.py sweep_deadlines`."""
    result = deadlines_sweep()
    return {"deadlines": result.deadlines, "notifications": result.notifications, "redelivered": result.redelivered}


@shared_task(name="notifications.tasks.supervisor_digest_task", ignore_result=True)
def supervisor_digest_task() -> int:
    """The beat task (every 10 minutes): today's supervisor digests, once 7:00 Pacific has come."""
    return digests_send()


def _close_broken_connections() -> None:
    """Drop database connections after an error (a worker runs tasks outside any transaction)."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close()


def _db_retries() -> int:
    return int(getattr(settings, "HARBOR_NOTIFICATION_DB_RETRIES", 8))


def _open_mail_connection() -> Any:
    """One mail connection for a batch of sends; None (each send opens its own) if it cannot
    be opened now — the sends then fail one by one and are retried with back-off."""
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception as exc:
        logger.warning("mail connection could not be opened (%s)", type(exc).__name__)
        return None
    return connection


@shared_task(
    bind=True,
    name="notifications.tasks.notification_send_many_task",
    ignore_result=True,
    acks_late=True,  # a killed worker's message is delivered again; every send is idempotent
    reject_on_worker_lost=True,
    max_retries=None,
)
def notification_send_many_task(self, notification_ids: list[int]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Send a batch of notifications (what the sweep enqueues): each one by `notification_send`
    in its own transaction, so the at-most-once rule is per notification exactly as for a single
    send; the batch only shares the broker round trip and one mail connection. A send that asks
    for a retry is re-enqueued alone with its back-off."""
    outcomes: Counter[str] = Counter()
    mail_connection = _open_mail_connection()
    try:
        for index, pk in enumerate(notification_ids):
            try:
                result = notification_send(notification_id=pk, mail_connection=mail_connection)
            except DatabaseError as exc:
                # The rest of the batch is retried with back-off (what was sent is skipped then);
                # past the retries the rows are still pending and the redeliver step takes them.
                _close_broken_connections()
                if self.request.retries >= _db_retries():
                    logger.warning(
                        "notification sends: database unavailable, %s left pending", len(notification_ids) - index
                    )
                    return dict(outcomes)
                raise self.retry(
                    args=[notification_ids[index:]], exc=exc, countdown=retry_backoff(self.request.retries + 1)
                )
            except Exception as exc:
                # Anything else is this one notification's problem: it stays pending (the redeliver
                # step tries it again) and the rest of the batch goes on.
                logger.error("notification %s: send raised %s; left pending", pk, type(exc).__name__)
                outcomes["error"] += 1
                continue
            outcomes[result.outcome] += 1
            if result.outcome in ("retry", "failed") and mail_connection is not None:
                # A failed send may have left the mail session unusable: the next send gets a fresh one.
                mail_connection.close()
                mail_connection = _open_mail_connection()
            if result.retry_in is not None:
                try:
                    # On the queue the sends go to (workers may listen only there), as _enqueue_sends does.
                    queue = getattr(settings, "HARBOR_NOTIFICATIONS_QUEUE", None)
                    notification_send_task.apply_async(args=[pk], countdown=result.retry_in, queue=queue)
                except Exception as exc:  # the broker: the redeliver step re-enqueues it after its back-off
                    logger.warning("notification %s: retry not enqueued (%s)", pk, type(exc).__name__)
    finally:
        if mail_connection is not None:
            mail_connection.close()
    return dict(outcomes)


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
        _close_broken_connections()
        if self.request.retries >= _db_retries():
            logger.warning("notification %s: database unavailable, left pending for redelivery", notification_id)
            return "deferred"
        raise self.retry(exc=exc, countdown=retry_backoff(self.request.retries + 1))
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.outcome
