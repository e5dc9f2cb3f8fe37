"""A meeting's agenda: coordinators add, edit, remove and reorder the cases on it while it is
scheduled or published; members record each item's review outcome (a new version per edit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Agency
from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.models import Case
from core.errors import ApplicationError
from core.etags import check_if_match
from mdt.models import AgendaChange, AgendaItem, Meeting, ReviewVersion
from mdt.services.change_notices import agenda_change_record
from mdt.services.guards import (
    conflict,
    forbid_unless_coordinator,
    forbid_unless_member,
    lock_meeting,
    require_in_session,
    require_unlocked,
)

Action = AuditEvent.Action


def _audit_item(actor: Any, action: str, item_id: int, youth_id: int | None, detail: dict[str, Any]) -> None:
    """The audit event of a change to an agenda item (ids and codes only)."""
    audit_record(
        actor=actor, action=action, object_type="mdt_agenda_item", object_id=item_id, youth_id=youth_id, detail=detail
    )


def _agenda_changed(meeting: Meeting, actor: Any) -> None:
    """After publishing, the members are told (batched: mdt/services/change_notices.py)."""
    agenda_change_record(meeting=meeting, kind=AgendaChange.Kind.ITEMS, actor=actor)


def _require_agenda_editable(meeting: Meeting) -> None:
    require_unlocked(meeting)
    if not meeting.agenda_editable:
        raise conflict("The agenda of a held meeting cannot change.")


CASE_NOT_ELIGIBLE = "Not an open case of this team's court."


@transaction.atomic
def agenda_item_add(
    *,
    meeting: Meeting,
    case_id: int,
    reason: str,
    position: int | None = None,
    presenting_agency: Agency | None = None,
    minutes_allotted: int = 10,
    actor: Any,
) -> AgendaItem:
    """Put a case on the agenda (at `position`, 1-based, or at the end). Only an open case of
    the team's court qualifies; the same message answers a case that does not exist, so the
    check reveals nothing about other courts' cases."""
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    case = Case.objects.filter(pk=case_id, court=meeting.team.court, status=Case.Status.OPEN).first()
    if case is None:
        raise ApplicationError(CASE_NOT_ELIGIBLE, fields={"case": [CASE_NOT_ELIGIBLE]})
    existing = AgendaItem.objects.filter(meeting=meeting, case=case).first()
    if existing is not None and existing.withdrawn_at is not None:
        # The case is back on the team's court: the coordinator puts its withdrawn item back.
        return _agenda_item_restore(item=existing, meeting=meeting, reason=reason, actor=actor)
    if existing is not None:
        raise ApplicationError("The case is already on this agenda.", fields={"case": ["Already on this agenda."]})
    size = AgendaItem.objects.filter(meeting=meeting).count()
    position = size + 1 if position is None else max(1, min(position, size + 1))
    AgendaItem.objects.filter(meeting=meeting, position__gte=position).update(position=F("position") + 1)
    item = AgendaItem.objects.create(
        meeting=meeting,
        case=case,
        position=position,
        reason=reason,
        presenting_agency=presenting_agency or case.lead_agency,
        minutes_allotted=minutes_allotted,
        added_by=actor,
    )
    _agenda_changed(meeting, actor)
    _audit_item(actor, Action.CREATE, item.pk, case.youth_id, {"meeting": meeting.pk, "case": case.pk})
    return item


def _agenda_item_restore(*, item: AgendaItem, meeting: Meeting, reason: str, actor: Any) -> AgendaItem:
    item.withdrawn_at = None
    item.withdrawn_reason = ""
    item.reason = reason
    item.save()
    _agenda_changed(meeting, actor)
    _audit_item(
        actor,
        Action.UPDATE,
        item.pk,
        item.case.youth_id,
        {"meeting": meeting.pk, "case": item.case_id, "restored": True},
    )
    return item


# --- a case that leaves a court (signals from cases, received in mdt/receivers.py) -----------------


def _remove(item: AgendaItem, *, meeting: Meeting, actor: Any, why: str) -> None:
    item_id, position = item.pk, item.position
    item.delete()
    AgendaItem.objects.filter(meeting=meeting, position__gt=position).update(position=F("position") - 1)
    _audit_item(
        actor, Action.DELETE, item_id, item.case.youth_id, {"meeting": meeting.pk, "case": item.case_id, why: True}
    )


def _items_of_case(*, case: Case, court: str | None, statuses: Sequence[str]) -> list[AgendaItem]:
    qs = AgendaItem.objects.filter(case_id=case.pk, meeting__status__in=statuses, withdrawn_at__isnull=True)
    if court is not None:
        qs = qs.filter(meeting__team__court=court)
    return list(qs.select_related("case", "meeting").order_by("meeting_id", "id"))


@transaction.atomic
def agenda_case_leave_unpublished(*, case: Case, actor: Any, why: str, court: str | None = None) -> int:
    """Take the case off every agenda not yet published (of `court`'s teams, or of every team):
    a draft agenda simply loses the item. Returns how many items were removed."""
    removed = 0
    for item in _items_of_case(case=case, court=court, statuses=[Meeting.Status.SCHEDULED]):
        meeting = lock_meeting(item.meeting)
        if meeting.status != Meeting.Status.SCHEDULED:
            continue  # published meanwhile: the published rule applies (the caller's next step)
        _remove(item, meeting=meeting, actor=actor, why=why)
        removed += 1
    return removed


@transaction.atomic
def agenda_case_withdraw(*, case: Case, actor: Any, why: str, court: str) -> int:
    """SPEC §4: a case whose court changes leaves the old court's unpublished agendas, and a
    published agenda of that court shows it as withdrawn — the item stays in its place, without
    its agenda view — and its members are told the agenda changed. Held meetings keep their
    record. Returns how many items were withdrawn or removed."""
    count = agenda_case_leave_unpublished(case=case, actor=actor, why=why, court=court)
    now = timezone.now()
    for item in _items_of_case(case=case, court=court, statuses=[Meeting.Status.PUBLISHED]):
        meeting = lock_meeting(item.meeting)
        item.withdrawn_at = now
        item.withdrawn_reason = why
        item.save(update_fields=["withdrawn_at", "withdrawn_reason", "updated_at"])
        _agenda_changed(meeting, actor)
        _audit_item(
            actor,
            Action.UPDATE,
            item.pk,
            item.case.youth_id,
            {"meeting": meeting.pk, "case": item.case_id, "withdrawn": True, why: True},
        )
        count += 1
    return count


AGENDA_ITEM_FIELDS = ("reason", "presenting_agency", "minutes_allotted")


@transaction.atomic
def agenda_item_update(
    *, item: AgendaItem, data: dict[str, Any], actor: Any, if_match: str | None = None
) -> AgendaItem:
    """A stale If-Match is checked on the locked item (412), before anything changes."""
    meeting = lock_meeting(item.meeting)
    item = AgendaItem.objects.select_for_update(of=("self",)).select_related("case").get(pk=item.pk)
    check_if_match(item, if_match)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    if item.withdrawn_at is not None:
        raise conflict("The case was withdrawn from this agenda: remove the item, or add the case again.")
    changed = [name for name in AGENDA_ITEM_FIELDS if name in data and getattr(item, name) != data[name]]
    for name in changed:
        setattr(item, name, data[name])
    if changed:
        item.save()
        _agenda_changed(meeting, actor)
    _audit_item(actor, Action.UPDATE, item.pk, item.case.youth_id, {"meeting": meeting.pk, "fields": sorted(changed)})
    return item


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, actor: Any) -> None:
    meeting = lock_meeting(item.meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    item = AgendaItem.objects.select_related("case").get(pk=item.pk)
    if item.reviewed_at is not None:
        raise conflict("A reviewed item stays on the agenda.")
    item_id, youth_id, case_id, position = item.pk, item.case.youth_id, item.case_id, item.position
    item.delete()
    AgendaItem.objects.filter(meeting=meeting, position__gt=position).update(position=F("position") - 1)
    _agenda_changed(meeting, actor)
    _audit_item(actor, Action.DELETE, item_id, youth_id, {"meeting": meeting.pk, "case": case_id})


@transaction.atomic
def agenda_reorder(*, meeting: Meeting, item_ids: Sequence[int], actor: Any) -> Meeting:
    """Put the agenda in the order given: every item of the meeting, each once."""
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    items = {item.pk: item for item in AgendaItem.objects.filter(meeting=meeting)}
    if len(item_ids) != len(set(item_ids)) or set(item_ids) != set(items):
        raise ApplicationError(
            "List every item of this agenda exactly once.", fields={"items": ["Every item of this agenda, each once."]}
        )
    changed = []
    for position, pk in enumerate(item_ids, start=1):
        if items[pk].position != position:
            items[pk].position = position
            changed.append(items[pk])
    if changed:
        AgendaItem.objects.bulk_update(changed, ["position"])
        _agenda_changed(meeting, actor)
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="mdt_meeting",
        object_id=meeting.pk,
        detail={"reordered": list(item_ids)},
    )
    return meeting


# --- reviews (during and after the meeting) ------------------------------------------------------


@transaction.atomic
def agenda_item_review(*, item: AgendaItem, summary: str, decisions: str = "", actor: Any) -> AgendaItem:
    meeting = lock_meeting(item.meeting)
    forbid_unless_member(actor=actor, team=meeting.team)
    require_in_session(meeting)
    item = AgendaItem.objects.select_related("case").get(pk=item.pk)
    if item.withdrawn_at is not None:
        raise conflict("The case was withdrawn from this agenda; it is not reviewed here.")
    created = item.reviewed_at is None
    now = timezone.now()
    # The meeting's row lock serialises reviews of its items, so the next number is free.
    latest = ReviewVersion.objects.filter(item=item).order_by("-version").values_list("version", flat=True).first()
    version = ReviewVersion.objects.create(
        item=item,
        version=(latest or 0) + 1,
        summary=summary,
        decisions=decisions,
        reviewed_by=actor,
        reviewed_at=now,
    )
    item.review_summary = summary
    item.review_decisions = decisions
    item.reviewed_by = actor
    item.reviewed_at = now
    item._history_user = actor  # noqa: SLF001 - simple-history's (documented) history-author attribute
    item.save()
    audit_record(
        actor=actor,
        action=Action.CREATE if created else Action.UPDATE,
        object_type="mdt_review",
        object_id=item.pk,
        youth_id=item.case.youth_id,
        detail={"meeting": meeting.pk, "case": item.case_id, "version": version.version},
    )
    return item
