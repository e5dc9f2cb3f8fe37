"""Action items: recorded for a case on the team's agenda (at a meeting or between meetings),
edited by the team's coordinators, closed by their assignee or a coordinator through their own
transitions (`action_item_mark_done`, `action_item_cancel`); each has an action_item_due
deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.models import Case, CaseTeamMember
from core.errors import ApplicationError
from core.etags import check_if_match
from mdt import selectors
from mdt.models import ActionItem, Meeting, TeamMembership
from mdt.permissions import may_sit_on_team
from mdt.services.guards import conflict, lock_meeting, require_in_session
from notifications.services import deadlines as notify

ACTION_ITEM_RULE = "action_item_due"

Action = AuditEvent.Action


ASSIGNEE_NOT_ELIGIBLE = "The assignee must sit on the MDT team or on the case's team."
AGENCY_IS_THE_ASSIGNEES = (
    "The item's agency is its assignee's: leave `agency` out, or send the assignee's agency ({code})."
)
AGENCY_NEEDED = "Send an assignee (the item's agency is then theirs), or the agency that owns the item."


def _may_be_assigned(*, team_id: int, case: Any, assignee: User) -> bool:
    """SPEC §4: the assignee is a member of the MDT team or of the case's team (an MDT often
    gives the follow-up to the case's social worker, who does not sit on the MDT). A case-team
    member must still see the case (cases' visibility rule: an expired share sees nothing), since
    the item shows its case number and description to its assignee."""
    from cases.selectors.visibility import case_ids_visible_to

    if not (assignee.is_active and may_sit_on_team(assignee)):
        return False
    if TeamMembership.objects.filter(team_id=team_id, user=assignee).exists():
        return True
    return (
        CaseTeamMember.objects.filter(case=case, user=assignee, removed_at__isnull=True).exists()
        and Case.objects.filter(pk=case.pk, pk__in=case_ids_visible_to(user=assignee)).exists()
    )


def _owner_agency(*, team_id: int, case: Any, assignee: User | None, agency: Agency | None) -> Agency:
    """The item's agency: its assignee's (a sent agency must be that one: 400 otherwise), or,
    for an item with no assignee yet, the agency sent."""
    if assignee is None:
        if agency is None:
            raise ApplicationError(AGENCY_NEEDED, fields={"agency": [AGENCY_NEEDED]})
        return agency
    if not _may_be_assigned(team_id=team_id, case=case, assignee=assignee):
        raise ApplicationError(ASSIGNEE_NOT_ELIGIBLE, fields={"assignee": [ASSIGNEE_NOT_ELIGIBLE]})
    owner = assignee.agency
    assert owner is not None  # user_agency_required: only a system admin has none, and is never eligible
    if agency is not None and agency.pk != assignee.agency_id:
        message = AGENCY_IS_THE_ASSIGNEES.format(code=owner.code)
        raise ApplicationError(message, fields={"agency": [message]})
    return owner


CASE_NOT_ON_AGENDA = "Not a case on your team's agendas."


@transaction.atomic
def action_item_create(
    *,
    case_id: int,
    meeting: Meeting | None = None,
    description: str,
    assignee: User | None,
    agency: Agency | None = None,
    due_at: dt.datetime,
    status: str = ActionItem.Status.OPEN,
    actor: Any,
) -> ActionItem:
    """Record an action item for a case on the caller's team's agenda. At a meeting: while it
    is published or held, and only for a case on that meeting's agenda. Opens its
    action_item_due deadline."""
    if not may_sit_on_team(actor):
        raise ApplicationError("Action items are recorded by MDT team members.", code="forbidden")
    visible_items = selectors.agenda_item_list_visible_to(user=actor)
    if meeting is not None:
        meeting = lock_meeting(meeting)
        if not selectors.is_team_member(user=actor, team=meeting.team):
            raise ApplicationError("Not a member of this meeting's team.", fields={"meeting": ["Not found."]})
        on_agenda = (
            visible_items.filter(meeting=meeting, case_id=case_id, withdrawn_at__isnull=True)
            .select_related("case")
            .first()
        )
        if on_agenda is None:
            raise ApplicationError(
                "The case is not on this meeting's agenda.", fields={"case": ["Not on this agenda."]}
            )
        require_in_session(meeting)
        team_id = meeting.team_id
    else:
        on_agenda = (
            visible_items.filter(case_id=case_id, withdrawn_at__isnull=True)
            .select_related("case", "meeting")
            .order_by("-meeting__starts_at")
            .first()
        )
        if on_agenda is None:
            raise ApplicationError(CASE_NOT_ON_AGENDA, fields={"case": [CASE_NOT_ON_AGENDA]})
        team_id = on_agenda.meeting.team_id
    case = on_agenda.case
    if case.status != case.Status.OPEN:
        raise conflict("The case is closed: it takes notes only. A supervisor of the lead agency can reopen it.")
    agency = _owner_agency(team_id=team_id, case=case, assignee=assignee, agency=agency)
    if timezone.is_naive(due_at):
        raise ApplicationError("Times need a UTC offset.", fields={"due_at": ["Give a UTC offset."]})
    item = ActionItem.objects.create(
        case=case,
        team_id=team_id,
        meeting=meeting,
        description=description,
        assignee=assignee,
        agency=agency,
        due_at=due_at,
        created_by=actor,
    )
    notify.deadline_open(rule_code=ACTION_ITEM_RULE, target=item, starts_at=item.created_at, actor=actor, due_at=due_at)
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="mdt_action_item",
        object_id=item.pk,
        youth_id=case.youth_id,
        detail={"case": case.pk, "meeting": meeting.pk if meeting else None, "agency": agency.code},
    )
    if status != ActionItem.Status.OPEN:
        item = _move_to(item=item, status=status, actor=actor)
    return item


STAYS_CLOSED = "A done or cancelled action item stays closed; record a new one."
ONLY_COORDINATORS_OR_ASSIGNEE = "Only the team's coordinators edit an action item; its assignee may mark it done."


def _lock(item: ActionItem) -> ActionItem:
    return (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("case", "agency", "assignee", "team")
        .get(pk=item.pk)
    )


def _forbid_unless_coordinator_or_assignee(*, item: ActionItem, actor: Any) -> None:
    if not (selectors.is_coordinator(user=actor, team=item.team_id) or item.assignee_id == actor.pk):
        raise ApplicationError(ONLY_COORDINATORS_OR_ASSIGNEE, code="forbidden")


def _audit_transition(*, item: ActionItem, actor: Any) -> None:
    audit_record(
        actor=actor,
        action=Action.TRANSITION,
        object_type="mdt_action_item",
        object_id=item.pk,
        youth_id=item.case.youth_id,
        detail={"to": item.status},
    )


def _mark_done(*, item: ActionItem, actor: Any) -> ActionItem:
    """open -> done on the locked item: its deadline is met."""
    if not can_proceed(item.mark_done):
        raise conflict(STAYS_CLOSED)
    now = timezone.now()
    item.mark_done()
    item.done_at = now
    item.save()
    notify.deadline_meet(rule_code=ACTION_ITEM_RULE, target=item, met_at=now, actor=actor)
    _audit_transition(item=item, actor=actor)
    return item


def _cancel(*, item: ActionItem, actor: Any, reason: str = "") -> ActionItem:
    """open -> cancelled on the locked item: its deadline is cancelled."""
    if not can_proceed(item.cancel):
        raise conflict(STAYS_CLOSED)
    item.cancel()
    item.cancelled_at = timezone.now()
    item.cancel_reason = reason
    item.save()
    notify.deadline_cancel(
        rule_code=ACTION_ITEM_RULE, target=item, reason=reason or "action item cancelled", actor=actor
    )
    _audit_transition(item=item, actor=actor)
    return item


@transaction.atomic
def action_items_cancel_for_case(*, case_id: int, actor: Any, reason: str) -> int:
    """The system cancels every open action item of a case (SPEC §2: closing the case, reason
    "case closed"), each through its own transition, with its deadline. Returns how many."""
    items = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("case", "agency", "assignee", "team")
        .filter(case_id=case_id, status=ActionItem.Status.OPEN)
        .order_by("id")
    )
    count = 0
    for item in items:
        _cancel(item=item, actor=actor, reason=reason)
        count += 1
    return count


def _move_to(*, item: ActionItem, status: str, actor: Any) -> ActionItem:
    """The status a create or PATCH body names, through its transition (the same status: nothing)."""
    if status == item.status:
        return item
    if status == ActionItem.Status.DONE:
        return _mark_done(item=item, actor=actor)
    if status == ActionItem.Status.CANCELLED:
        return _cancel(item=item, actor=actor)
    raise conflict(STAYS_CLOSED)


@transaction.atomic
def action_item_mark_done(*, item: ActionItem, actor: Any, if_match: str | None = None) -> ActionItem:
    """The assignee, or a coordinator of the item's team, marks an open item done."""
    item = _lock(item)
    check_if_match(item, if_match)
    _forbid_unless_coordinator_or_assignee(item=item, actor=actor)
    return _mark_done(item=item, actor=actor)


@transaction.atomic
def action_item_cancel(*, item: ActionItem, actor: Any, if_match: str | None = None) -> ActionItem:
    """The assignee, or a coordinator of the item's team, cancels an open item."""
    item = _lock(item)
    check_if_match(item, if_match)
    _forbid_unless_coordinator_or_assignee(item=item, actor=actor)
    return _cancel(item=item, actor=actor)


ACTION_ITEM_FIELDS = ("description", "assignee", "agency", "due_at")
#: A change of assignee moves the item to the new assignee's agency unless the body says otherwise.


@transaction.atomic
def action_item_update(
    *, item: ActionItem, data: dict[str, Any], actor: Any, if_match: str | None = None
) -> ActionItem:
    """Coordinators of the item's team change anything; the assignee changes its status. A stale
    If-Match is checked on the locked row (412)."""
    item = _lock(item)
    check_if_match(item, if_match)
    coordinator = selectors.is_coordinator(user=actor, team=item.team_id)
    data = dict(data)
    if "assignee" in data or "agency" in data:
        assignee = data.get("assignee", item.assignee)
        sent_agency = data.get("agency")
        if sent_agency is None and assignee is None:
            sent_agency = item.agency  # unassigning keeps the owner agency
        data["agency"] = _owner_agency(team_id=item.team_id, case=item.case, assignee=assignee, agency=sent_agency)
    changed = [name for name in ACTION_ITEM_FIELDS if name in data and getattr(item, name) != data[name]]
    if not coordinator and (changed or item.assignee_id != actor.pk):
        raise ApplicationError(ONLY_COORDINATORS_OR_ASSIGNEE, code="forbidden")
    if changed and item.status != ActionItem.Status.OPEN:
        raise conflict(STAYS_CLOSED)
    if changed:
        for name in changed:
            setattr(item, name, data[name])
        if timezone.is_naive(item.due_at):
            raise ApplicationError("Times need a UTC offset.", fields={"due_at": ["Give a UTC offset."]})
        item.save()
        if {"due_at", "assignee", "agency"} & set(changed):
            # The deadline copies its due time and who is responsible: open it afresh.
            notify.deadline_cancel(rule_code=ACTION_ITEM_RULE, target=item, reason="action item changed", actor=actor)
            notify.deadline_open(
                rule_code=ACTION_ITEM_RULE, target=item, starts_at=timezone.now(), actor=actor, due_at=item.due_at
            )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type="mdt_action_item",
            object_id=item.pk,
            youth_id=item.case.youth_id,
            detail={"fields": sorted(changed)},
        )
    if "status" in data:
        item = _move_to(item=item, status=data["status"], actor=actor)
    return item
