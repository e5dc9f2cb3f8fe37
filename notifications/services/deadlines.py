"""Deadlines: open, meet, cancel, waive (SPEC §3).

INTERFACE CONTRACT (cases/ and mdt/ call these inside their own transactions; keep the
signatures): `deadline_open`, `deadline_meet`, `deadline_cancel`, `deadline_settle`. What a deadline records of its
target is described by the app that registered the target's model (`notifications.subjects`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import is_supervisor

from .. import subjects
from ..models import Deadline, DeadlineRule
from ..rules import DEFAULT_RULES_BY_CODE

UTC = dt.UTC


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


def _describe_target(rule: DeadlineRule, target: Any) -> dict[str, Any]:
    """The denormalised columns of a deadline on `target`: what lists, visibility, recipients
    and the (non-identifying) reminder text need, so none of them joins generically. The app
    that registered the target's model describes it."""
    subject = subjects.subject_for(target)
    if subject.kind != rule.target:
        raise ValueError(f"rule {rule.code} applies to a {rule.target}, not a {subject.kind}")
    return subject.describe(rule, target)


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
        status__in=[Deadline.Status.MET, Deadline.Status.WAIVED, *Deadline.SETTLED], starts_at=starts, due_at=due
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
        deadline.meet()
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
        deadline.cancel()
        deadline.cancelled_at = now
        deadline.cancel_reason = reason[:200]
        deadline.next_stage, deadline.next_reminder_at = "", None
        deadline.save(
            update_fields=["status", "cancelled_at", "cancel_reason", "next_stage", "next_reminder_at", "updated_at"]
        )
        _audit(actor, AuditEvent.Action.TRANSITION, deadline, {"status": "cancelled"})
    return len(deadlines)


@transaction.atomic
def deadline_settle(
    *,
    rule_code: str,
    target: models.Model,
    status: str,
    reason: str,
    superseded_by: Deadline | None = None,
    actor: Any = None,
) -> int:
    """Settle the outstanding deadline `rule_code` of `target` by the facts (SPEC §3): it can no
    longer be met (`not_applicable`) or another deadline carries the same duty (`superseded`,
    `superseded_by`). `reason` is the decision (e.g. "referral declined"), never a person's free
    text. No reminder goes out after this commits. Returns how many."""
    if status not in Deadline.SETTLED:
        raise ValueError(f"a deadline is settled as {' or '.join(Deadline.SETTLED)}, not {status!r}")
    if (status == Deadline.Status.SUPERSEDED) != (superseded_by is not None):
        raise ValueError("a superseded deadline names the deadline that supersedes it (and only then)")
    deadlines = _active_for(rule_code, target)
    now = timezone.now()
    for deadline in deadlines:
        if status == Deadline.Status.SUPERSEDED:
            deadline.supersede()
        else:
            deadline.mark_not_applicable()
        deadline.settled_at = now
        deadline.settle_reason = reason[:200]
        deadline.superseded_by = superseded_by
        deadline.next_stage, deadline.next_reminder_at = "", None
        deadline.save(
            update_fields=[
                "status",
                "settled_at",
                "settle_reason",
                "superseded_by",
                "next_stage",
                "next_reminder_at",
                "updated_at",
            ]
        )
        detail: dict[str, Any] = {"status": status, "reason": deadline.settle_reason}
        if superseded_by is not None:
            detail["superseded_by"] = superseded_by.pk
        _audit(actor, AuditEvent.Action.TRANSITION, deadline, detail)
    return len(deadlines)


def deadline_outstanding(*, rule_code: str, target: models.Model) -> Deadline | None:
    """The outstanding (open or missed) deadline `rule_code` of `target`, if any."""
    rule = DeadlineRule.objects.filter(code=rule_code).first()
    if rule is None:
        return None
    return Deadline.objects.filter(
        rule=rule,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        status__in=Deadline.ACTIVE,
    ).first()


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
    if not can_proceed(deadline.waive):
        raise ApplicationError(f"A {deadline.status} deadline cannot be waived.", code="conflict")
    deadline.waive()
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
