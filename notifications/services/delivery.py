"""Delivery: a notification's email, sent at most once, with retries and redelivery (SPEC §3).


Reliability, in one paragraph (SPEC §3: never lose, never double a reminder). The database is
the source of truth. The sweep claims due deadlines with `SELECT … FOR UPDATE SKIP LOCKED` (two
sweepers never take the same row, and neither waits for the other) and, in the same transaction,
creates one pending `Notification` per (deadline, stage, recipient) — a unique constraint makes
a double impossible even if the claim were bypassed. The send task is enqueued only on commit,
with the notification id. Sending locks the notification row, sends only if it is still
pending, and marks it sent in the same transaction; a redelivered or duplicated task then finds
it sent and does nothing. A message lost to a flushed broker or a killed worker is recovered by
`notifications_redeliver` (run by every sweep), which re-enqueues what is still pending past its
`redeliver_after`. The one window left: a crash after the mail server accepted an email and
before our COMMIT returns re-sends that email once. It is kept to the COMMIT itself (every write
is done before the send, the send is the last step), and the re-sent copy carries the same
Message-ID (derived from the notification id) so mail servers and clients can drop it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core import db

from .. import messages
from ..models import DailyDigest, Notification, NotificationDelivery

logger = logging.getLogger(__name__)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def max_attempts() -> int:
    return int(_setting("HARBOR_NOTIFICATION_MAX_ATTEMPTS", 6))


def redeliver_grace() -> dt.timedelta:
    """How long a pending notification may wait for its queued send before it is re-enqueued."""
    return dt.timedelta(seconds=float(_setting("HARBOR_NOTIFICATION_REDELIVER_AFTER", 300)))


def retry_backoff(attempt: int) -> float:
    """Exponential back-off with a little jitter: base, 2·base, 4·base … capped."""
    base = float(_setting("HARBOR_NOTIFICATION_RETRY_BASE", 30))
    cap = float(_setting("HARBOR_NOTIFICATION_RETRY_CAP", 3600))
    delay = min(base * (2 ** max(attempt - 1, 0)), cap)
    return delay + random.uniform(0, delay / 10)  # noqa: S311 - jitter, not security


# --- notifications -------------------------------------------------------------------------------


#: Notification ids per send message: the broker round trip, the task overhead and one mail
#: connection are shared by up to this many sends; each send is still its own transaction.
SEND_BATCH = 50


def _enqueue_sends(notification_ids: list[int]) -> None:
    """Hand the sends to the broker (after commit), SEND_BATCH ids per message. A broker that
    is down loses nothing: the rows stay pending and the redeliver step enqueues them again."""
    from ..tasks import notification_send_many_task

    queue = _setting("HARBOR_NOTIFICATIONS_QUEUE", None)
    for start in range(0, len(notification_ids), SEND_BATCH):
        chunk = list(notification_ids[start : start + SEND_BATCH])
        try:
            if queue:
                notification_send_many_task.apply_async(args=[chunk], queue=queue)
            else:
                notification_send_many_task.delay(chunk)
        except Exception as exc:  # the broker: logged, and recovered by notifications_redeliver
            logger.warning("could not enqueue notification sends (%s); the redeliver step will", type(exc).__name__)
            return


def _email_wanted(user: Any, rule_code: str, stage: str, opt_outs: set[tuple[int, str]]) -> bool:
    if not user.email:
        return False
    if stage == Notification.Stage.OVERDUE or rule_code == messages.DIGEST_RULE:
        return True  # the escalation and the supervisors' daily digest cannot be turned off
    return (user.pk, rule_code) not in opt_outs


def _notification_row(
    *, user: Any, reason: str, rule_code: str, stage: str, email: bool, now: dt.datetime, **fields: Any
) -> dict[str, Any]:
    """The column values (by attname) of one new notification."""
    return {
        "recipient_id": user.pk,
        "reason": reason,
        "rule": rule_code,
        "stage": stage,
        "delivery_status": Notification.Delivery.PENDING if email else Notification.Delivery.INBOX_ONLY,
        "redeliver_after": now + redeliver_grace() if email else None,
        **fields,
    }


def _new_notification(**kwargs: Any) -> Notification:
    return Notification(**_notification_row(**kwargs))


def notifications_redeliver(*, now: dt.datetime | None = None, batch_size: int = 1000) -> int:
    """Enqueue again every pending notification whose send should have happened by now (its
    message lost to a flushed broker, a killed worker, a broker outage at enqueue time). The
    send is idempotent, so a message that was only slow costs a no-op."""
    now = now or timezone.now()
    total = 0
    for _ in range(10_000):
        with transaction.atomic():
            due = Notification.objects.filter(
                delivery_status=Notification.Delivery.PENDING, redeliver_after__lte=now
            ).order_by("redeliver_after", "id")
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            ids = list(due.values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            Notification.objects.filter(pk__in=ids).update(redeliver_after=now + redeliver_grace())
            transaction.on_commit(partial(_enqueue_sends, ids), robust=True)
            total += len(ids)
        if len(ids) < batch_size:
            break
    if total:
        logger.info("re-enqueued %s pending notification sends", total)
    return total


@dataclass
class SendResult:
    outcome: str  # sent, already, skipped, retry, failed, missing
    retry_in: float | None = None


class _NotEmailed(Exception):
    pass


#: What a send reads: the notification, the recipient's address, the rule's name and source.
_SEND_FIELDS = (
    *(f.name for f in Notification._meta.concrete_fields),
    "recipient__email",
    "recipient__is_active",
    "deadline__rule__name",
    "deadline__rule__legal_source",
)

#: PostgreSQL: claim a pending notification for an email, log the attempt and read what the
#: email needs — one statement. The UPDATE takes the row lock until COMMIT; a concurrent send of
#: the same id waits for it, then finds the row no longer pending and claims nothing.
_CLAIM_SQL = """
WITH claimed AS (
    UPDATE notifications_notification AS n
    SET attempts = n.attempts + 1, delivery_status = %(sent)s, sent_at = %(now)s, redeliver_after = NULL
    FROM accounts_user AS u
    WHERE n.id = %(id)s AND n.delivery_status = %(pending)s
      AND u.id = n.recipient_id AND u.is_active AND u.email <> ''
    RETURNING n.id, n.stage, n.reason, n.subject, n.reference, n.due_at, n.link, n.rule, u.email
), logged AS (
    INSERT INTO notifications_notificationdelivery (notification_id, attempted_at, outcome, error_class)
    SELECT id, %(now)s, %(logged)s, '' FROM claimed
)
SELECT c.id, c.stage, c.reason, c.subject, c.reference, c.due_at, c.link, c.email, r.name, r.legal_source, c.rule
FROM claimed AS c LEFT JOIN notifications_deadlinerule AS r ON r.code = c.rule
"""


@dataclass
class _RuleText:
    name: str
    legal_source: str


def _claim_for_email(notification_id: int, now: dt.datetime) -> Any:
    """On PostgreSQL: (email message, None) for a pending notification to an active recipient
    with an address, claimed as sent and its attempt logged (in the caller's transaction);
    None when there is nothing to claim (missing, already sent or failed, or not to be emailed —
    the ORM path below sorts those out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {
                "id": notification_id,
                "now": now,
                "sent": Notification.Delivery.SENT,
                "pending": Notification.Delivery.PENDING,
                "logged": NotificationDelivery.Outcome.SENT,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pk, stage, reason, subject, reference, due_at, link, address, rule_name, legal_source, rule_code = row
    shown = Notification(
        id=pk, stage=stage, reason=reason, subject=subject, reference=reference, due_at=due_at, link=link
    )
    rule = _RuleText(rule_name, legal_source) if rule_name is not None else None
    return messages.build_email(notification=shown, rule=rule, to=address, lines=_digest_lines(pk, rule_code))


def _digest_lines(notification_id: int, rule_code: str) -> list[dict[str, str]] | None:
    """A daily digest's lines (one query, for digests only); None for any other notification."""
    if rule_code != messages.DIGEST_RULE:
        return None
    lines = DailyDigest.objects.filter(notification_id=notification_id).values_list("lines", flat=True).first()
    return list(lines or [])


def notification_send(*, notification_id: int, mail_connection: Any = None) -> SendResult:
    """Send one notification's email, at most once.

    The row is locked; if it is no longer pending (sent by an earlier delivery of the same
    task, or failed) nothing happens. Every write — status sent, the attempt row — is made
    before the email goes out and the email is the last step before COMMIT, so the only window
    for a double is the COMMIT itself (see the module docstring). A mail error rolls all of it
    back and is recorded by `_record_failure` with its class name only. `mail_connection`: an
    open mail backend connection to reuse (a batch of sends shares one).

    On PostgreSQL the usual case — pending, recipient active with an address — is one
    statement (`_CLAIM_SQL`); everything else, and other databases, take the ORM path.
    """
    try:
        with transaction.atomic():
            now = timezone.now()
            message = _claim_for_email(notification_id, now) if db.fast_paths() else None
            if message is None:
                outcome, message = _claim_orm(notification_id, now)
                if message is None:
                    return SendResult(outcome)
            if mail_connection is not None:
                message.connection = mail_connection
            try:
                message.send()
            except Exception as exc:
                raise _NotEmailed() from exc
    except _NotEmailed as failure:
        return _record_failure(notification_id, failure.__cause__)
    return SendResult("sent")


def _claim_orm(notification_id: int, now: dt.datetime) -> tuple[str, Any]:
    """The same claim through the ORM, with the row locked: ("sent", message) to send, or
    (outcome, None) — missing, already (no longer pending), skipped (recipient inactive or
    without an address: inbox only, the skip logged)."""
    locked = Notification.objects.select_related("recipient", "deadline__rule").only(*_SEND_FIELDS)
    if connection.features.has_select_for_update:
        locked = locked.select_for_update(of=("self",))
    notification = locked.filter(pk=notification_id).first()
    if notification is None:
        return "missing", None
    if notification.delivery_status != Notification.Delivery.PENDING:
        return "already", None
    user = notification.recipient
    if not user.is_active or not user.email:
        notification.delivery_status = Notification.Delivery.INBOX_ONLY
        notification.redeliver_after = None
        notification.save(update_fields=["delivery_status", "redeliver_after"])
        NotificationDelivery.objects.create(
            notification=notification, attempted_at=now, outcome=NotificationDelivery.Outcome.SKIPPED
        )
        return "skipped", None
    rule = notification.deadline.rule if notification.deadline_id else None
    lines = _digest_lines(notification.pk, notification.rule)
    message = messages.build_email(notification=notification, rule=rule, lines=lines)
    notification.attempts += 1
    notification.delivery_status = Notification.Delivery.SENT
    notification.sent_at = now
    notification.redeliver_after = None
    notification.save(update_fields=["attempts", "delivery_status", "sent_at", "redeliver_after"])
    NotificationDelivery.objects.create(
        notification=notification, attempted_at=now, outcome=NotificationDelivery.Outcome.SENT
    )
    return "sent", message


@transaction.atomic
def _record_failure(notification_id: int, exc: BaseException | None) -> SendResult:
    locked = Notification.objects.all()
    if connection.features.has_select_for_update:
        locked = locked.select_for_update()
    notification = locked.filter(pk=notification_id).first()
    if notification is None or notification.delivery_status != Notification.Delivery.PENDING:
        return SendResult("already")
    now = timezone.now()
    notification.attempts += 1
    final = notification.attempts >= max_attempts()
    delay = retry_backoff(notification.attempts)
    error_class = type(exc).__name__ if exc is not None else "Exception"
    if final:
        notification.delivery_status = Notification.Delivery.FAILED
        notification.redeliver_after = None
    else:
        # The redeliver step must not beat the back-off.
        notification.redeliver_after = now + dt.timedelta(seconds=delay) + redeliver_grace()
    notification.save(update_fields=["attempts", "delivery_status", "redeliver_after"])
    NotificationDelivery.objects.create(
        notification=notification,
        attempted_at=now,
        outcome=NotificationDelivery.Outcome.FAILED if final else NotificationDelivery.Outcome.ERROR,
        error_class=error_class[:100],
    )
    logger.warning(
        "notification %s: email attempt %s failed (%s)%s",
        notification_id,
        notification.attempts,
        error_class,
        "; giving up" if final else "",
    )
    return SendResult("failed") if final else SendResult("retry", delay)


def notification_send_pending(*, limit: int = 10_000) -> int:
    """Send every pending notification in this process, now (the management command's
    `--send`: the embedded default or an operator without a worker). Same code as the task."""
    ids = list(
        Notification.objects.filter(delivery_status=Notification.Delivery.PENDING)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for pk in ids if notification_send(notification_id=pk).outcome == "sent")
