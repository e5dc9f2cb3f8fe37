"""Deadlines and notifications — the interface other apps call (SPEC §3).

INTERFACE CONTRACT (cases/ and mdt/ call these inside their own transactions; keep the
signatures): `deadline_open`, `deadline_meet`, `deadline_cancel`, `meeting_members_notify`.

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
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from core import db
from core.errors import ApplicationError
from core.permissions import is_supervisor

from . import messages
from .models import TARGET_MODELS, Deadline, DeadlineRule, Notification, NotificationDelivery, NotificationPreference
from .rules import DEFAULT_RULES_BY_CODE, NOTICE_KINDS
from .selectors import DeadlineRecipients, email_opt_outs, preference_kinds, team_member_users

logger = logging.getLogger(__name__)

UTC = dt.UTC
STAGE_ORDER = {Deadline.Stage.UPCOMING: 0, Deadline.Stage.DUE: 1, Deadline.Stage.OVERDUE: 2}
#: Notification kind for MDT agenda notices (not a deadline).
AGENDA_NOTICE = "mdt_agenda"


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


def _aware_utc(value: dt.datetime, field: str) -> dt.datetime:
    """Clocks are computed in UTC: adding 36 h to a Pacific wall time would drift by an hour
    across a daylight-saving change; in UTC 36 hours stay 36 real hours."""
    if timezone.is_naive(value):
        raise ValueError(f"{field} must be timezone-aware")
    return value.astimezone(UTC)


# --- rules ---------------------------------------------------------------------------------------


def deadline_rule_get(*, code: str) -> DeadlineRule:
    """The rule `code`; a default rule missing from the database (bootstrap not run yet) is
    created from SPEC §3's table on first use."""
    rule = DeadlineRule.objects.filter(code=code).first()
    if rule is not None:
        return rule
    spec = DEFAULT_RULES_BY_CODE.get(code)
    if spec is None:
        raise ValueError(f"unknown deadline rule {code!r}")
    rule, _ = DeadlineRule.objects.get_or_create(code=code, defaults={k: v for k, v in spec.items() if k != "code"})
    return rule


# --- targets -------------------------------------------------------------------------------------


def _target_kind(target: models.Model) -> str:
    label = target._meta.label_lower
    for kind, model_label in TARGET_MODELS.items():
        if model_label == label:
            return kind
    raise ValueError(f"{label} cannot carry a deadline")


def _describe_target(rule: DeadlineRule, target: Any) -> dict[str, Any]:
    """The denormalised columns of a deadline on `target`: what lists, visibility, recipients
    and the (non-identifying) reminder text need, so none of them joins generically."""
    kind = _target_kind(target)
    if kind != rule.target:
        raise ValueError(f"rule {rule.code} applies to a {rule.target}, not a {kind}")
    out: dict[str, Any] = {
        "case_id": None,
        "referral_id": None,
        "youth_id": None,
        "agency_id": None,
        "team_id": None,
        "assignee_id": None,
    }
    if kind == "referral":
        out.update(referral_id=target.pk, case_id=target.case_id, youth_id=target.youth_id)
        out["agency_id"] = (
            target.referring_agency_id if rule.responsible_agency == "referring" else target.receiving_agency_id
        )
        out["reference"] = f"Referral R-{target.pk}"
        out["link_path"] = f"/api/v1/referrals/{target.pk}/"
        return out
    if kind == "meeting":
        team = target.team
        out.update(
            team_id=team.pk,
            reference=f"{team.code} meeting M-{target.pk}",
            link_path=f"/api/v1/mdt/meetings/{target.pk}/",
        )
        return out
    case = target.case
    out.update(case_id=case.pk, youth_id=case.youth_id, reference=f"Case {case.number}")
    if kind == "action_item":
        out.update(assignee_id=target.assignee_id, agency_id=target.agency_id)
        out["link_path"] = f"/api/v1/action-items/?case={case.pk}"
    else:
        out["agency_id"] = case.lead_agency_id
        suffix = "missing-episodes" if kind == "missing_episode" else "agencies"
        out["link_path"] = f"/api/v1/cases/{case.pk}/{suffix}/"
    if rule.responsible_agency == "lead":
        out["agency_id"] = case.lead_agency_id
    return out


def _stage_times(
    rule: DeadlineRule, starts: dt.datetime, due: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(upcoming_at, overdue_at). Upcoming at `upcoming_fraction` of the clock (2/3 by default),
    also for rules whose due time is given (between the clock start and the due time)."""
    upcoming = None
    if rule.upcoming_fraction and due > starts:
        upcoming = starts + dt.timedelta(seconds=round((due - starts).total_seconds() * rule.upcoming_fraction))
    overdue = due + rule.overdue_after if rule.overdue_after is not None else None
    return upcoming, overdue


def _audit(actor: Any, action: str, deadline: Deadline, detail: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="deadline",
        object_id=deadline.pk,
        youth_id=deadline.youth_id,
        detail={"rule": deadline.rule.code, **detail},
    )


# --- the interface -------------------------------------------------------------------------------


@transaction.atomic
def deadline_open(
    *,
    rule_code: str,
    target: models.Model,
    starts_at: dt.datetime,
    actor: Any = None,
    due_at: dt.datetime | None = None,
) -> Deadline | None:
    """Open the deadline `rule_code` for `target` (a Referral, MissingEpisode, Meeting,
    ActionItem or CaseAgency), its clock starting at `starts_at` (due = starts_at + the rule's
    offset, or `due_at` when given, e.g. an action item's own due time). Idempotent: an open
    deadline of the same rule for the same target is returned unchanged.

    The rule's current offsets, stages and recipients are copied onto the deadline: a later
    edit of the rule changes deadlines opened afterwards, never this one. Returns None when a
    system admin switched the rule off.
    """
    rule = deadline_rule_get(code=rule_code)
    if not rule.is_active:
        return None
    content_type = ContentType.objects.get_for_model(target)
    existing = Deadline.objects.filter(rule=rule, content_type=content_type, object_id=target.pk)
    active = existing.filter(status__in=Deadline.ACTIVE).first()
    if active is not None:
        return active
    starts = _aware_utc(starts_at, "starts_at")
    if due_at is not None:
        due = _aware_utc(due_at, "due_at")
    elif rule.due_anchor:
        due = _aware_utc(getattr(target, rule.due_anchor), rule.due_anchor) + rule.offset
    else:
        due = starts + rule.offset
    # The same facts recorded again (a re-save) do not reopen a deadline already met or waived.
    closed = existing.filter(
        status__in=[Deadline.Status.MET, Deadline.Status.WAIVED], starts_at=starts, due_at=due
    ).first()
    if closed is not None:
        return closed
    upcoming, overdue = _stage_times(rule, starts, due)
    first_stage, first_at = (Deadline.Stage.UPCOMING, upcoming) if upcoming else (Deadline.Stage.DUE, due)
    deadline = Deadline(
        rule=rule,
        content_type=content_type,
        object_id=target.pk,
        **_describe_target(rule, target),
        recipients=rule.recipients,
        escalate_overdue=rule.escalate_overdue,
        lapse_outcome=rule.lapse_outcome,
        starts_at=starts,
        upcoming_at=upcoming,
        due_at=due,
        overdue_at=overdue,
        next_stage=first_stage,
        next_reminder_at=first_at,
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent open must not break the caller's transaction
            deadline.save(force_insert=True)
    except IntegrityError:
        return existing.filter(status__in=Deadline.ACTIVE).get()
    _audit(actor, AuditEvent.Action.CREATE, deadline, {"due_at": due.isoformat()})
    return deadline


def _active_for(rule_code: str, target: models.Model) -> list[Deadline]:
    rule = DeadlineRule.objects.filter(code=rule_code).first()
    if rule is None:
        return []
    qs = Deadline.objects.filter(
        rule=rule,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        status__in=Deadline.ACTIVE,
    ).select_related("rule")
    if connection.features.has_select_for_update:
        qs = qs.select_for_update(of=("self",))
    return list(qs)


@transaction.atomic
def deadline_meet(*, rule_code: str, target: models.Model, met_at: dt.datetime, actor: Any = None) -> int:
    """Mark the open deadline `rule_code` of `target` met at `met_at` (when the fact happened),
    recorded now. Returns how many.

    A missed deadline can still be met by a late fact (met_at after due_at tells it was late).
    A fact recorded after the due time with a time before it is "met, recorded late" (SPEC §2):
    met, both times kept; the reminders and the escalation sent meanwhile stay sent.
    No reminder goes out after this commits; a sweep holding the row finishes first.
    """
    met = _aware_utc(met_at, "met_at")
    recorded = timezone.now()
    deadlines = _active_for(rule_code, target)
    for deadline in deadlines:
        deadline.status = Deadline.Status.MET
        deadline.met_at = met
        deadline.recorded_at = recorded
        deadline.next_stage, deadline.next_reminder_at = "", None
        deadline.save(update_fields=["status", "met_at", "recorded_at", "next_stage", "next_reminder_at", "updated_at"])
        _audit(
            actor,
            AuditEvent.Action.TRANSITION,
            deadline,
            {"status": "met", "late": deadline.met_late, "recorded_late": deadline.recorded_late},
        )
    return len(deadlines)


@transaction.atomic
def deadline_cancel(*, rule_code: str, target: models.Model, reason: str, actor: Any = None) -> int:
    """Close an open deadline that no longer applies (a meeting cancelled, an item cancelled)."""
    deadlines = _active_for(rule_code, target)
    now = timezone.now()
    for deadline in deadlines:
        deadline.status = Deadline.Status.CANCELLED
        deadline.cancelled_at = now
        deadline.cancel_reason = reason[:200]
        deadline.next_stage, deadline.next_reminder_at = "", None
        deadline.save(
            update_fields=["status", "cancelled_at", "cancel_reason", "next_stage", "next_reminder_at", "updated_at"]
        )
        _audit(actor, AuditEvent.Action.TRANSITION, deadline, {"status": "cancelled"})
    return len(deadlines)


@transaction.atomic
def deadline_waive(*, deadline: Deadline, reason: str, actor: Any) -> Deadline:
    """A supervisor of the responsible agency waives a deadline, with a reason (403 for anyone
    else who can see it; 409 once it is met, waived or cancelled)."""
    if not (is_supervisor(actor) and deadline.agency_id and actor.agency_id == deadline.agency_id):
        # The refusal is audited by the API's exception handler (this transaction rolls back).
        raise ApplicationError("Only a supervisor of the responsible agency may waive this deadline.", code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required.", fields={"reason": ["This field may not be blank."]})
    locked = Deadline.objects.select_related("rule", "agency", "case", "referral")
    if connection.features.has_select_for_update:
        locked = locked.select_for_update(of=("self",))
    deadline = locked.get(pk=deadline.pk)
    if deadline.status not in Deadline.ACTIVE:
        raise ApplicationError(f"A {deadline.status} deadline cannot be waived.", code="conflict")
    deadline.status = Deadline.Status.WAIVED
    deadline.waived_at = timezone.now()
    deadline.waived_by = actor
    deadline.waive_reason = reason
    deadline.next_stage, deadline.next_reminder_at = "", None
    deadline.save(
        update_fields=[
            "status",
            "waived_at",
            "waived_by",
            "waive_reason",
            "next_stage",
            "next_reminder_at",
            "updated_at",
        ]
    )
    _audit(actor, AuditEvent.Action.TRANSITION, deadline, {"status": "waived"})
    return deadline


# --- notifications -------------------------------------------------------------------------------


#: Notification ids per send message: the broker round trip, the task overhead and one mail
#: connection are shared by up to this many sends; each send is still its own transaction.
SEND_BATCH = 50


def _enqueue_sends(notification_ids: list[int]) -> None:
    """Hand the sends to the broker (after commit), SEND_BATCH ids per message. A broker that
    is down loses nothing: the rows stay pending and the redeliver step enqueues them again."""
    from .tasks import notification_send_many_task

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
    if stage == Notification.Stage.OVERDUE:
        return True  # the escalation cannot be turned off
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


@dataclass
class SweepResult:
    deadlines: int = 0
    notifications: int = 0
    missed: int = 0
    redelivered: int = 0


def _advance(deadline: Deadline, now: dt.datetime) -> str:
    """Move one claimed deadline past `now`: the stage to remind of (the latest one that has
    come; an earlier one overtaken while no sweep ran is not sent late), the status when the due
    time has passed unmet, and the next reminder."""
    current = STAGE_ORDER.get(deadline.next_stage, 0)
    stages = [(s, at) for s, at in deadline.stage_times() if STAGE_ORDER[s] >= current]
    passed = [s for s, at in stages if at <= now]
    if not passed:  # claimed early (the stage times were edited): nothing to send yet
        upcoming = [(s, at) for s, at in stages if at > now]
        deadline.next_stage, deadline.next_reminder_at = upcoming[0] if upcoming else ("", None)
        return ""
    stage = passed[-1]
    if deadline.status == Deadline.Status.OPEN and deadline.due_at <= now:
        if deadline.lapse_outcome == DeadlineRule.LapseOutcome.MET:
            deadline.status, deadline.met_at = Deadline.Status.MET, deadline.due_at
        else:
            deadline.status, deadline.missed_at = Deadline.Status.MISSED, deadline.due_at
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
]
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
    if connection.vendor != "postgresql":
        Deadline.objects.bulk_update(batch, [f for f, _ in _SWEEP_FIELDS] + ["updated_at"], batch_size=500)
        return
    columns = [("id", "bigint"), *_SWEEP_FIELDS]
    names = ", ".join(f for f, _ in columns)
    assignments = ", ".join(f"{f} = v.{f}" for f, _ in _SWEEP_FIELDS)
    rows = [{"id": d.pk, **{f: getattr(d, f) for f, _ in _SWEEP_FIELDS}} for d in batch]
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
    if connection.vendor != "postgresql":
        Notification.objects.bulk_create([Notification(**row) for row in rows], batch_size=500, ignore_conflicts=True)
        return list(
            Notification.objects.filter(
                deadline_id__in={row["deadline_id"] for row in rows}, delivery_status=pending
            ).values_list("id", flat=True)
        )
    defaults = {"deadline_id": None, "case_id": None, "referral_id": None, "meeting_id": None, "due_at": None}
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
SELECT c.id, c.stage, c.reason, c.subject, c.reference, c.due_at, c.link, c.email, r.name, r.legal_source
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
    pk, stage, reason, subject, reference, due_at, link, address, rule_name, legal_source = row
    shown = Notification(
        id=pk, stage=stage, reason=reason, subject=subject, reference=reference, due_at=due_at, link=link
    )
    rule = _RuleText(rule_name, legal_source) if rule_name is not None else None
    return messages.build_email(notification=shown, rule=rule, to=address)


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
            message = _claim_for_email(notification_id, now) if connection.vendor == "postgresql" else None
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
    message = messages.build_email(notification=notification, rule=rule)
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


@transaction.atomic
def meeting_members_notify(*, meeting: Any, event: str, actor: Any) -> int:
    """Tell every member of the meeting's team that its agenda was `published` or `changed`
    (in-app + email, no case details). Returns how many notifications were created."""
    if event not in messages.NOTICE_WORDS:
        raise ValueError(f"unknown agenda event {event!r}")
    team = meeting.team
    members = team_member_users(team_id=team.pk)
    if not members:
        return 0
    now = timezone.now()
    reference = f"{team.code} meeting M-{meeting.pk}"
    opt_outs = email_opt_outs(user_ids=[u.pk for u in members])
    rows = [
        _new_notification(
            user=user,
            reason=Notification.Reason.MEMBER,
            rule_code=AGENDA_NOTICE,
            stage=Notification.Stage.NOTICE,
            email=_email_wanted(user, AGENDA_NOTICE, Notification.Stage.NOTICE, opt_outs),
            now=now,
            subject=messages.notice_subject(event=event, reference=reference),
            reference=reference,
            due_at=meeting.starts_at,
            link=messages.absolute_link(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/"),
            meeting_id=meeting.pk,
        )
        for user in members
    ]
    created = Notification.objects.bulk_create(rows)
    pending = [n.pk for n in created if n.delivery_status == Notification.Delivery.PENDING and n.pk]
    if len(pending) < sum(1 for n in created if n.delivery_status == Notification.Delivery.PENDING):
        # A backend that does not return ids on bulk insert: the redeliver step enqueues them.
        pending = []
    if pending:
        transaction.on_commit(partial(_enqueue_sends, pending), robust=True)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        object_type="meeting_notice",
        object_id=meeting.pk,
        detail={"event": event, "recipients": len(rows)},
    )
    return len(rows)


# --- inbox and preferences -----------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, actor: Any) -> Notification:
    """Mark one of the actor's own notifications read (idempotent: the first read time stays)."""
    if notification.recipient_id != actor.pk:
        raise ApplicationError("Not found.", code="not_found")
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


@transaction.atomic
def notification_preferences_update(*, user: Any, changes: dict[str, bool], actor: Any) -> None:
    """Set, per reminder kind, whether the user also gets it by email. The overdue escalation
    is emailed whatever is set here; the inbox always gets everything."""
    known = {code for code, _ in preference_kinds()} | set(NOTICE_KINDS)
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ApplicationError(
            "Unknown reminder kind.", fields={"rules": [f"Unknown rule: {code}" for code in unknown]}
        )
    for code, email in changes.items():
        NotificationPreference.objects.update_or_create(user=user, rule=code, defaults={"email": bool(email)})
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="notification_preference",
        object_id=user.pk,
        detail={"email": {code: bool(v) for code, v in sorted(changes.items())}},
    )
