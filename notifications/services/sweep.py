"""The sweep (SPEC §3): claims the deadlines whose reminder has come with `SELECT … FOR UPDATE
SKIP LOCKED` (two sweepers never take the same row, and neither waits for the other) and, in
the same transaction, creates one pending `Notification` per (deadline, stage, recipient) — a
unique constraint makes a double impossible even if the claim were bypassed. The sends are
enqueued only on commit (see `delivery`), and every sweep runs `notifications_redeliver`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import db

from .. import messages
from ..models import Deadline, DeadlineRule, Notification
from ..selectors import DeadlineRecipients, email_opt_outs
from .delivery import _email_wanted, _enqueue_sends, _notification_row, notifications_redeliver

logger = logging.getLogger(__name__)

STAGE_ORDER: dict[str, int] = {Deadline.Stage.UPCOMING: 0, Deadline.Stage.DUE: 1, Deadline.Stage.OVERDUE: 2}


@dataclass
class SweepResult:
    deadlines: int = 0
    notifications: int = 0
    missed: int = 0
    redelivered: int = 0


def _advance(deadline: Deadline, now: dt.datetime) -> str:
    """Move one claimed deadline past `now`: the stage to remind of (the latest one that has
    come), the status when the due time has passed unmet, and the next reminder. An earlier
    stage overtaken while no sweep ran (beat down, database unreachable) is not sent late: it is
    recorded on the deadline as superseded, with its time and the sweep's (SPEC §3)."""
    current = STAGE_ORDER.get(deadline.next_stage, 0)
    stages = [(s, at) for s, at in deadline.stage_times() if STAGE_ORDER[s] >= current]
    passed = [s for s, at in stages if at <= now]
    if not passed:  # claimed early (the stage times were edited): nothing to send yet
        upcoming = [(s, at) for s, at in stages if at > now]
        deadline.next_stage, deadline.next_reminder_at = upcoming[0] if upcoming else ("", None)
        return ""
    stage = passed[-1]
    if len(passed) > 1:
        times = dict(stages)
        deadline.superseded_stages = [
            *(deadline.superseded_stages or []),
            *({"stage": s, "at": times[s].isoformat(), "recorded_at": now.isoformat()} for s in passed[:-1]),
        ]
    if deadline.status == Deadline.Status.OPEN and deadline.due_at <= now:
        # Through the status machine, in memory; the batch's write-back stores what it decided.
        if deadline.lapse_outcome == DeadlineRule.LapseOutcome.MET:
            deadline.meet()
            deadline.met_at = deadline.due_at
        else:
            deadline.miss()
            deadline.missed_at = deadline.due_at
    remaining = [(s, at) for s, at in stages if STAGE_ORDER[s] > STAGE_ORDER[stage]]
    if deadline.status == Deadline.Status.MET or not remaining:
        deadline.next_stage, deadline.next_reminder_at = "", None
    else:
        deadline.next_stage, deadline.next_reminder_at = remaining[0]
    return stage


#: What the sweep writes back to a claimed deadline.
_SWEEP_FIELDS = [
    ("status", "varchar"),
    ("met_at", "timestamptz"),
    ("missed_at", "timestamptz"),
    ("next_stage", "varchar"),
    ("next_reminder_at", "timestamptz"),
    # jsonb travels as text (a binary jsonb[] array needs a wrapper per element) and is cast back.
    ("superseded_stages", "text"),
]
#: Cast from the array's element type where the column's type differs.
_SWEEP_CASTS = {"superseded_stages": "::jsonb"}
#: The notification columns the sweep fills.
_NOTIFICATION_COLUMNS = [
    ("deadline_id", "bigint"),
    ("recipient_id", "bigint"),
    ("rule", "varchar"),
    ("stage", "varchar"),
    ("reason", "varchar"),
    ("subject", "varchar"),
    ("reference", "varchar"),
    ("due_at", "timestamptz"),
    ("link", "varchar"),
    ("case_id", "bigint"),
    ("referral_id", "bigint"),
    ("meeting_id", "bigint"),
    ("created_at", "timestamptz"),
    ("delivery_status", "varchar"),
    ("attempts", "smallint"),
    ("redeliver_after", "timestamptz"),
]


def _deadlines_write_back(batch: list[Deadline], *, now: dt.datetime) -> None:
    """One UPDATE … FROM unnest(arrays) for the whole batch on PostgreSQL. Django's bulk_update
    builds a CASE WHEN per row and field, which cost more to compile than to run (3.2 of 5.1 s
    of a 1,000-deadline sweep in the profile)."""
    for deadline in batch:
        deadline.updated_at = now
    if not db.fast_paths():
        Deadline.objects.bulk_update(batch, [f for f, _ in _SWEEP_FIELDS] + ["updated_at"], batch_size=500)
        return
    columns = [("id", "bigint"), *_SWEEP_FIELDS]
    names = ", ".join(f for f, _ in columns)
    assignments = ", ".join(f"{f} = v.{f}{_SWEEP_CASTS.get(f, '')}" for f, _ in _SWEEP_FIELDS)
    rows = [
        {
            "id": d.pk,
            **{f: getattr(d, f) for f, _ in _SWEEP_FIELDS},
            "superseded_stages": json.dumps(d.superseded_stages),
        }
        for d in batch
    ]
    with db.bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE notifications_deadline AS d SET {assignments}, updated_at = %s "  # noqa: S608 - names are constants
            f"FROM unnest({db.unnest_arrays(columns)}) AS v({names}) WHERE d.id = v.id",
            [now, *db.column_arrays(rows, columns)],
        )


def _notifications_insert(rows: list[dict[str, Any]], *, now: dt.datetime) -> list[int]:
    """Insert the sweep's notifications; return the ids of the new pending ones (to send).

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays) … RETURNING: a few array parameters
    instead of 16 placeholders per row. The row claim means a reminder cannot be created twice;
    the unique constraint on (deadline, stage, recipient) is the second guard. A plain INSERT
    costs half of one with ON CONFLICT (speculative insertion), so that is tried first, in a
    savepoint, and only a conflict — which the claim should make impossible — falls back to
    ON CONFLICT DO NOTHING."""
    if not rows:
        return []
    pending = Notification.Delivery.PENDING
    if not db.fast_paths():
        Notification.objects.bulk_create([Notification(**row) for row in rows], batch_size=500, ignore_conflicts=True)
        return list(
            Notification.objects.filter(
                deadline_id__in={row["deadline_id"] for row in rows}, delivery_status=pending
            ).values_list("id", flat=True)
        )
    defaults: dict[str, Any] = {
        "deadline_id": None,
        "case_id": None,
        "referral_id": None,
        "meeting_id": None,
        "due_at": None,
    }
    defaults |= {"link": "", "attempts": 0, "created_at": now}
    rows = [defaults | row for row in rows]
    table, returning = "notifications_notification", "RETURNING id, delivery_status"
    try:
        with transaction.atomic():
            created = db.insert_rows(table, _NOTIFICATION_COLUMNS, rows, suffix=returning)
    except IntegrityError:  # the unique constraint (deadline, stage, recipient)
        logger.warning("sweep: a reminder already existed; inserting the others only")
        created = db.insert_rows(table, _NOTIFICATION_COLUMNS, rows, suffix="ON CONFLICT DO NOTHING " + returning)
    return [pk for pk, status in created if status == pending]


#: What the sweep reads of a claimed deadline and its relations (recipients, stages, reminder text).
_CLAIMED_FIELDS = (
    # the stage machine
    *("status", "met_at", "missed_at", "next_stage", "next_reminder_at", "upcoming_at", "due_at", "overdue_at"),
    "superseded_stages",
    *("lapse_outcome", "recipients", "escalate_overdue"),
    # who is told, and what the reminder says (the target's type and id for the last fallback)
    *("rule", "content_type", "object_id", "case", "referral", "agency", "team_id", "assignee"),
    *("reference", "link_path"),
    "rule__code",
    "rule__name",
    "referral__case_id",
    "referral__created_by_id",
    *(f"{who}__{f}" for who in ("referral__created_by", "assignee") for f in ("email", "is_active", "agency_id")),
)


def _sweep_batch(now: dt.datetime, batch_size: int) -> tuple[int, int, int]:
    """Claim up to `batch_size` deadlines whose reminder has come, advance them and create their
    notifications, in one transaction. Returns (claimed, notifications created, newly missed).

    A fixed number of queries per batch: the claim, the recipients of the whole batch
    (DeadlineRecipients), the e-mail opt-outs, one UPDATE, one INSERT, the pending ids."""
    with transaction.atomic():
        claim = (
            Deadline.objects.filter(next_reminder_at__lte=now)
            # Only what the reminders need: the referral's narrative is not decrypted for nothing.
            .select_related("rule", "referral__created_by", "assignee")
            .only(*_CLAIMED_FIELDS)
            .order_by("next_reminder_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            claim = claim.select_for_update(skip_locked=True, of=("self",))
        batch = list(claim[:batch_size])
        if not batch:
            return 0, 0, 0
        who = DeadlineRecipients(batch)
        planned: list[tuple[Deadline, str, list[tuple[Any, str]]]] = []
        missed = 0
        for deadline in batch:
            was_open = deadline.status == Deadline.Status.OPEN
            stage = _advance(deadline, now)
            missed += int(was_open and deadline.status == Deadline.Status.MISSED)
            if stage:
                planned.append((deadline, stage, who.recipients(deadline, stage)))
        opt_outs = email_opt_outs(user_ids={user.pk for _, _, people in planned for user, _ in people})
        link = messages.absolute_link
        rows = [
            _notification_row(
                user=user,
                reason=reason,
                rule_code=deadline.rule.code,
                stage=stage,
                email=_email_wanted(user, deadline.rule.code, stage, opt_outs),
                now=now,
                deadline_id=deadline.pk,
                subject=messages.reminder_subject(
                    stage=stage, rule_name=deadline.rule.name, reference=deadline.reference
                ),
                reference=deadline.reference,
                due_at=deadline.due_at,
                link=link(deadline.link_path),
                case_id=deadline.case_id,
                referral_id=deadline.referral_id,
            )
            for deadline, stage, people in planned
            for user, reason in people
        ]
        _deadlines_write_back(batch, now=now)
        pending = _notifications_insert(rows, now=now)
        if pending:
            transaction.on_commit(partial(_enqueue_sends, pending), robust=True)
        return len(batch), len(rows), missed


def deadlines_sweep(*, now: dt.datetime | None = None, batch_size: int = 500, redeliver: bool = True) -> SweepResult:
    """One sweep: every deadline whose next reminder has come gets its notifications, batch by
    batch (each its own short transaction), then pending sends whose message may have been lost
    are enqueued again. Safe to run concurrently: each sweeper skips rows another has claimed."""
    now = now or timezone.now()
    result = SweepResult()
    for _ in range(10_000):  # bounded: every claimed deadline moves past `now`
        claimed, created, missed = _sweep_batch(now, batch_size)
        result.deadlines += claimed
        result.notifications += created
        result.missed += missed
        if claimed < batch_size:
            break
    if redeliver:
        result.redelivered = notifications_redeliver(now=now)
    return result
