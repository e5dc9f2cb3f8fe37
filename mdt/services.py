"""Every write about court MDT teams, meetings, agendas, reviews and action items (SPEC §4).

Visibility (404) is decided by the selectors before a service is called; the services decide
what a visible caller may do (403), what the current status allows (409) and what input is
valid (400), and write the audit event inside the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services import audit_record
from cases.models import Case
from core.errors import ApplicationError
from core.etags import check_if_match
from core.permissions import is_system_admin
from notifications import services as notify

from . import selectors
from .models import (
    ActionItem,
    AgendaItem,
    Attendance,
    CalendarFeed,
    MDTTeam,
    Meeting,
    ReviewVersion,
    TeamMembership,
)
from .permissions import may_sit_on_team

AGENDA_PUBLISH_RULE = "agenda_publish_48h"
ACTION_ITEM_RULE = "action_item_due"
AGENDA_PUBLISH_LEAD = dt.timedelta(hours=48)
MAX_MEETING_LENGTH = dt.timedelta(hours=12)
MAX_SERIES = 52

Action = AuditEvent.Action


def _now() -> dt.datetime:
    return timezone.now()


def _forbid_unless_coordinator(*, actor: Any, team_id: int) -> None:
    if not selectors.is_coordinator(user=actor, team=team_id):
        raise ApplicationError("Only the team's coordinators may do that.", code="forbidden")


def _forbid_unless_member(*, actor: Any, team: MDTTeam) -> None:
    """SPEC §1: an MDT member records attendance and review outcomes at their team's meetings
    (building and publishing the agenda stays with the coordinators)."""
    if not selectors.is_team_member(user=actor, team=team):
        raise ApplicationError("Only the team's members may do that.", code="forbidden")


def _lock_meeting(meeting: Meeting) -> Meeting:
    """Re-read the meeting under a row lock: agenda positions and status changes of one meeting
    are serialised (on SQLite the IMMEDIATE transaction already is)."""
    return Meeting.objects.select_for_update(of=("self",)).select_related("team").get(pk=meeting.pk)


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict")


def _require_unlocked(meeting: Meeting) -> None:
    if meeting.is_locked:
        raise _conflict("The meeting's minutes are final or the meeting was cancelled; it can no longer change.")


# --- team membership (system admin) ---------------------------------------------------------------


@transaction.atomic
def team_member_add(
    *, team: MDTTeam, user: User, is_coordinator: bool = False, actor: Any
) -> tuple[TeamMembership, bool]:
    """Add `user` to the team, or change whether they coordinate it. Returns (membership, created)."""
    if not is_system_admin(actor):
        raise ApplicationError("Only a system admin manages team membership.", code="forbidden")
    if not may_sit_on_team(user):
        raise ApplicationError(
            "Only active MDT members, case workers and supervisors may sit on a team.",
            fields={"user": ["This user may not sit on an MDT team."]},
        )
    membership, created = TeamMembership.objects.get_or_create(
        team=team, user=user, defaults={"is_coordinator": is_coordinator, "added_by": actor}
    )
    if not created and membership.is_coordinator != is_coordinator:
        membership.is_coordinator = is_coordinator
        membership.save(update_fields=["is_coordinator"])
    audit_record(
        actor=actor,
        action=Action.ACCESS_CHANGE,
        object_type="mdt_team_membership",
        object_id=membership.pk,
        detail={"team": team.code, "user": user.pk, "is_coordinator": is_coordinator, "created": created},
    )
    return membership, created


@transaction.atomic
def team_member_remove(*, team: MDTTeam, user_id: int, actor: Any) -> None:
    if not is_system_admin(actor):
        raise ApplicationError("Only a system admin manages team membership.", code="forbidden")
    membership = TeamMembership.objects.filter(team=team, user_id=user_id).first()
    if membership is None:
        raise ApplicationError("Not a member of this team.", code="not_found")
    membership_id = membership.pk
    membership.delete()
    audit_record(
        actor=actor,
        action=Action.ACCESS_CHANGE,
        object_type="mdt_team_membership",
        object_id=membership_id,
        detail={"team": team.code, "user": user_id, "removed": True},
    )


# --- meetings -------------------------------------------------------------------------------------


def _weekly(starts_at: dt.datetime, weeks: int) -> dt.datetime:
    """The same Pacific wall-clock time `weeks` weeks later (9:00 stays 9:00 across DST)."""
    local = starts_at.astimezone(selectors.PACIFIC)
    naive = local.replace(tzinfo=None) + dt.timedelta(weeks=weeks)
    return naive.replace(tzinfo=selectors.PACIFIC).astimezone(dt.UTC)


def _validate_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ApplicationError("Times need a UTC offset.", fields={"starts_at": ["Give a UTC offset."]})
    if ends_at <= starts_at:
        raise ApplicationError(
            "The meeting must end after it starts.", fields={"ends_at": ["Must be after starts_at."]}
        )
    if ends_at - starts_at > MAX_MEETING_LENGTH:
        raise ApplicationError(
            "A meeting lasts at most 12 hours.", fields={"ends_at": ["At most 12 hours after starts_at."]}
        )


@transaction.atomic
def meeting_schedule(
    *,
    team: MDTTeam,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str = "",
    repeat_weekly: bool = False,
    count: int = 1,
    actor: Any,
) -> list[Meeting]:
    """Schedule one meeting, or a weekly series of `count` meetings at the same Pacific time.
    Each opens its agenda_publish_48h deadline (agenda due to members two days ahead)."""
    _forbid_unless_coordinator(actor=actor, team_id=team.pk)
    _validate_times(starts_at, ends_at)
    count = count if repeat_weekly else 1
    if not 1 <= count <= MAX_SERIES:
        raise ApplicationError("A series has 1 to 52 meetings.", fields={"count": [f"Between 1 and {MAX_SERIES}."]})
    length = ends_at - starts_at
    series = uuid.uuid4() if count > 1 else None
    now = _now()
    meetings = []
    for week in range(count):
        start = _weekly(starts_at, week)
        meeting = Meeting.objects.create(
            team=team, starts_at=start, ends_at=start + length, location=location, series=series, created_by=actor
        )
        notify.deadline_open(
            rule_code=AGENDA_PUBLISH_RULE,
            target=meeting,
            starts_at=now,
            actor=actor,
            due_at=start - AGENDA_PUBLISH_LEAD,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type="mdt_meeting",
            object_id=meeting.pk,
            detail={"team": team.code, "series": str(series) if series else None},
        )
        meetings.append(meeting)
    return meetings


MEETING_EDITABLE_FIELDS = ("starts_at", "ends_at", "location", "minutes")


@transaction.atomic
def meeting_update(*, meeting: Meeting, data: dict[str, Any], actor: Any) -> Meeting:
    """Change the time, place or minutes. Time and place may change until the meeting is held
    (members are told again if the agenda was already published); minutes are written while the
    meeting is published or held, and are locked once final."""
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_unlocked(meeting)
    changed = [name for name in MEETING_EDITABLE_FIELDS if name in data and getattr(meeting, name) != data[name]]
    schedule_changed = [name for name in changed if name != "minutes"]
    if schedule_changed and not meeting.agenda_editable:
        raise _conflict("A meeting that was held cannot be moved.")
    if "minutes" in changed and not meeting.in_session:
        raise _conflict("Minutes are recorded once the agenda is published.")
    if not changed:
        return meeting
    old_starts_at = meeting.starts_at
    for name in changed:
        setattr(meeting, name, data[name])
    _validate_times(meeting.starts_at, meeting.ends_at)
    if schedule_changed:
        meeting.sequence += 1
    meeting.save()
    if "starts_at" in changed and meeting.status == Meeting.Status.SCHEDULED and old_starts_at != meeting.starts_at:
        # The agenda is now due two days before the new start.
        notify.deadline_cancel(rule_code=AGENDA_PUBLISH_RULE, target=meeting, reason="rescheduled", actor=actor)
        notify.deadline_open(
            rule_code=AGENDA_PUBLISH_RULE,
            target=meeting,
            starts_at=_now(),
            actor=actor,
            due_at=meeting.starts_at - AGENDA_PUBLISH_LEAD,
        )
    if schedule_changed and meeting.status == Meeting.Status.PUBLISHED:
        notify.meeting_members_notify(meeting=meeting, event="changed", actor=actor)
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="mdt_meeting",
        object_id=meeting.pk,
        detail={"fields": sorted(changed)},
    )
    return meeting


def _transition(meeting: Meeting, name: str, message: str) -> None:
    method = getattr(meeting, name)
    if not can_proceed(method):
        raise _conflict(message)
    method()


def _audit_transition(actor: Any, meeting: Meeting, source: str) -> None:
    audit_record(
        actor=actor,
        action=Action.TRANSITION,
        object_type="mdt_meeting",
        object_id=meeting.pk,
        detail={"from": source, "to": meeting.status},
    )


@transaction.atomic
def meeting_publish(*, meeting: Meeting, actor: Any) -> Meeting:
    """Send the agenda to every member of the team."""
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "publish", "Only a scheduled meeting's agenda can be published.")
    now = _now()
    meeting.published_at = now
    meeting.save()
    notify.deadline_meet(rule_code=AGENDA_PUBLISH_RULE, target=meeting, met_at=now, actor=actor)
    notify.meeting_members_notify(meeting=meeting, event="published", actor=actor)
    _audit_transition(actor, meeting, source)
    return meeting


@transaction.atomic
def meeting_hold(*, meeting: Meeting, actor: Any) -> Meeting:
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "hold", "Only a published meeting can be marked held.")
    meeting.held_at = _now()
    meeting.save()
    _audit_transition(actor, meeting, source)
    return meeting


@transaction.atomic
def meeting_finalize_minutes(*, meeting: Meeting, minutes: str | None = None, actor: Any) -> Meeting:
    """Lock the meeting: after this nothing about it changes (409)."""
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "finalize_minutes", "Only the minutes of a held meeting can be finalised.")
    if minutes is not None:
        meeting.minutes = minutes
    if not (meeting.minutes or "").strip():
        raise ApplicationError("Record the minutes before finalising them.", fields={"minutes": ["Required."]})
    meeting.minutes_finalized_at = _now()
    meeting.save()
    _audit_transition(actor, meeting, source)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str = "", actor: Any) -> Meeting:
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "cancel", "Only a scheduled or published meeting can be cancelled.")
    meeting.cancelled_at = _now()
    meeting.cancel_reason = reason
    meeting.sequence += 1
    meeting.save()
    if source == Meeting.Status.SCHEDULED:
        notify.deadline_cancel(rule_code=AGENDA_PUBLISH_RULE, target=meeting, reason="meeting cancelled", actor=actor)
    else:
        notify.meeting_members_notify(meeting=meeting, event="changed", actor=actor)
    _audit_transition(actor, meeting, source)
    return meeting


@transaction.atomic
def meeting_change(
    *,
    meeting: Meeting,
    data: dict[str, Any],
    actor: Any,
    status: str | None = None,
    cancel_reason: str = "",
    if_match: str | None = None,
) -> Meeting:
    """PATCH /mdt/meetings/{id}/: the fields first, then, if `status` names another state, the
    transition to it (publish, hold, finalize the minutes, cancel), all or nothing. A stale
    If-Match is checked once, on the locked row, before anything changes (412)."""
    meeting = _lock_meeting(meeting)
    check_if_match(meeting, if_match)
    fields = {k: data[k] for k in MEETING_EDITABLE_FIELDS if k in data}
    if fields or status is None:
        meeting = meeting_update(meeting=meeting, data=fields, actor=actor)
    if status is None or status == meeting.status:
        return meeting
    if status == Meeting.Status.PUBLISHED:
        return meeting_publish(meeting=meeting, actor=actor)
    if status == Meeting.Status.HELD:
        return meeting_hold(meeting=meeting, actor=actor)
    if status == Meeting.Status.MINUTES_FINAL:
        return meeting_finalize_minutes(meeting=meeting, actor=actor)
    if status == Meeting.Status.CANCELLED:
        return meeting_cancel(meeting=meeting, reason=cancel_reason, actor=actor)
    raise _conflict("A meeting cannot go back to scheduled.")


# --- agenda items ---------------------------------------------------------------------------------


def _agenda_changed(meeting: Meeting, actor: Any) -> None:
    if meeting.status == Meeting.Status.PUBLISHED:
        notify.meeting_members_notify(meeting=meeting, event="changed", actor=actor)


def _require_agenda_editable(meeting: Meeting) -> None:
    _require_unlocked(meeting)
    if not meeting.agenda_editable:
        raise _conflict("The agenda of a held meeting cannot change.")


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
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    case = Case.objects.filter(pk=case_id, court=meeting.team.court, status=Case.Status.OPEN).first()
    if case is None:
        raise ApplicationError(CASE_NOT_ELIGIBLE, fields={"case": [CASE_NOT_ELIGIBLE]})
    if AgendaItem.objects.filter(meeting=meeting, case=case).exists():
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
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="mdt_agenda_item",
        object_id=item.pk,
        youth_id=case.youth_id,
        detail={"meeting": meeting.pk, "case": case.pk},
    )
    return item


AGENDA_ITEM_FIELDS = ("reason", "presenting_agency", "minutes_allotted")


@transaction.atomic
def agenda_item_update(*, item: AgendaItem, data: dict[str, Any], actor: Any) -> AgendaItem:
    meeting = _lock_meeting(item.meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    item = AgendaItem.objects.select_related("case").get(pk=item.pk)
    changed = [name for name in AGENDA_ITEM_FIELDS if name in data and getattr(item, name) != data[name]]
    for name in changed:
        setattr(item, name, data[name])
    if changed:
        item.save()
        _agenda_changed(meeting, actor)
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="mdt_agenda_item",
        object_id=item.pk,
        youth_id=item.case.youth_id,
        detail={"meeting": meeting.pk, "fields": sorted(changed)},
    )
    return item


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, actor: Any) -> None:
    meeting = _lock_meeting(item.meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    _require_agenda_editable(meeting)
    item = AgendaItem.objects.select_related("case").get(pk=item.pk)
    if item.reviewed_at is not None:
        raise _conflict("A reviewed item stays on the agenda.")
    item_id, youth_id, case_id, position = item.pk, item.case.youth_id, item.case_id, item.position
    item.delete()
    AgendaItem.objects.filter(meeting=meeting, position__gt=position).update(position=F("position") - 1)
    _agenda_changed(meeting, actor)
    audit_record(
        actor=actor,
        action=Action.DELETE,
        object_type="mdt_agenda_item",
        object_id=item_id,
        youth_id=youth_id,
        detail={"meeting": meeting.pk, "case": case_id},
    )


@transaction.atomic
def agenda_reorder(*, meeting: Meeting, item_ids: Sequence[int], actor: Any) -> Meeting:
    """Put the agenda in the order given: every item of the meeting, each once."""
    meeting = _lock_meeting(meeting)
    _forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
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


# --- during and after the meeting -----------------------------------------------------------------


def _require_in_session(meeting: Meeting) -> None:
    _require_unlocked(meeting)
    if not meeting.in_session:
        raise _conflict("That is recorded once the agenda is published.")


@transaction.atomic
def agenda_item_review(*, item: AgendaItem, summary: str, decisions: str = "", actor: Any) -> AgendaItem:
    meeting = _lock_meeting(item.meeting)
    _forbid_unless_member(actor=actor, team=meeting.team)
    _require_in_session(meeting)
    item = AgendaItem.objects.select_related("case").get(pk=item.pk)
    created = item.reviewed_at is None
    now = _now()
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


NOT_AN_ATTENDEE = "Only the team's members and the people presenting an item of this meeting can be marked."


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, user: User, present: bool, agency: Agency | None = None, actor: Any
) -> tuple[Attendance, bool]:
    """Mark `user` present or absent. SPEC §4: only the team's members and the people presenting
    an item of this meeting can be marked (see `selectors.may_attend`), each as their own agency."""
    meeting = _lock_meeting(meeting)
    _forbid_unless_member(actor=actor, team=meeting.team)
    _require_in_session(meeting)
    if not selectors.may_attend(user=user, meeting=meeting):
        raise ApplicationError(
            NOT_AN_ATTENDEE,
            fields={"user": ["Send the id of a member of this team or of a person presenting an item."]},
        )
    if agency is not None and agency.pk != user.agency_id:
        raise ApplicationError(
            "An attendee attends for their own agency.",
            fields={"agency": ["Leave it out, or send the attendee's own agency."]},
        )
    agency = user.agency
    record, created = Attendance.objects.update_or_create(
        meeting=meeting, user=user, defaults={"present": present, "agency": agency, "recorded_by": actor}
    )
    audit_record(
        actor=actor,
        action=Action.CREATE if created else Action.UPDATE,
        object_type="mdt_attendance",
        object_id=record.pk,
        detail={"meeting": meeting.pk, "user": user.pk, "present": present},
    )
    return record, created


# --- action items ---------------------------------------------------------------------------------


def _validate_assignee(*, team_id: int, assignee: User | None, agency: Agency) -> None:
    if assignee is None:
        return
    # The assignee sees the item (case number and description): only people on the team.
    if not (may_sit_on_team(assignee) and TeamMembership.objects.filter(team_id=team_id, user=assignee).exists()):
        raise ApplicationError(
            "The assignee must sit on the team.", fields={"assignee": ["Not a member of this team."]}
        )
    if assignee.agency_id != agency.pk:
        raise ApplicationError(
            "The assignee must belong to the agency that owns the item.",
            fields={"agency": ["Must be the assignee's agency."]},
        )


CASE_NOT_ON_AGENDA = "Not a case on your team's agendas."


@transaction.atomic
def action_item_create(
    *,
    case_id: int,
    meeting: Meeting | None = None,
    description: str,
    assignee: User | None,
    agency: Agency,
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
        meeting = _lock_meeting(meeting)
        if not selectors.is_team_member(user=actor, team=meeting.team):
            raise ApplicationError("Not a member of this meeting's team.", fields={"meeting": ["Not found."]})
        on_agenda = visible_items.filter(meeting=meeting, case_id=case_id).select_related("case").first()
        if on_agenda is None:
            raise ApplicationError(
                "The case is not on this meeting's agenda.", fields={"case": ["Not on this agenda."]}
            )
        _require_in_session(meeting)
        team_id = meeting.team_id
    else:
        on_agenda = (
            visible_items.filter(case_id=case_id)
            .select_related("case", "meeting")
            .order_by("-meeting__starts_at")
            .first()
        )
        if on_agenda is None:
            raise ApplicationError(CASE_NOT_ON_AGENDA, fields={"case": [CASE_NOT_ON_AGENDA]})
        team_id = on_agenda.meeting.team_id
    case = on_agenda.case
    _validate_assignee(team_id=team_id, assignee=assignee, agency=agency)
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
        item = _action_item_set_status(item=item, status=status, actor=actor)
    return item


def _action_item_set_status(*, item: ActionItem, status: str, actor: Any) -> ActionItem:
    if status == item.status:
        return item
    now = _now()
    if status == ActionItem.Status.DONE and can_proceed(item.mark_done):
        item.mark_done()
        item.done_at = now
        item.save()
        notify.deadline_meet(rule_code=ACTION_ITEM_RULE, target=item, met_at=now, actor=actor)
    elif status == ActionItem.Status.CANCELLED and can_proceed(item.cancel):
        item.cancel()
        item.cancelled_at = now
        item.save()
        notify.deadline_cancel(rule_code=ACTION_ITEM_RULE, target=item, reason="action item cancelled", actor=actor)
    else:
        raise _conflict("A done or cancelled action item stays closed; record a new one.")
    audit_record(
        actor=actor,
        action=Action.TRANSITION,
        object_type="mdt_action_item",
        object_id=item.pk,
        youth_id=item.case.youth_id,
        detail={"to": item.status},
    )
    return item


ACTION_ITEM_FIELDS = ("description", "assignee", "agency", "due_at")


@transaction.atomic
def action_item_update(
    *, item: ActionItem, data: dict[str, Any], actor: Any, if_match: str | None = None
) -> ActionItem:
    """Coordinators of the item's team change anything; the assignee changes its status. A stale
    If-Match is checked on the locked row (412)."""
    item = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("case", "agency", "assignee", "team")
        .get(pk=item.pk)
    )
    check_if_match(item, if_match)
    coordinator = selectors.is_coordinator(user=actor, team=item.team_id)
    changed = [name for name in ACTION_ITEM_FIELDS if name in data and getattr(item, name) != data[name]]
    if not coordinator and (changed or item.assignee_id != actor.pk):
        raise ApplicationError(
            "Only the team's coordinators edit an action item; its assignee may mark it done.", code="forbidden"
        )
    if changed and item.status != ActionItem.Status.OPEN:
        raise _conflict("A done or cancelled action item stays closed; record a new one.")
    if changed:
        for name in changed:
            setattr(item, name, data[name])
        if timezone.is_naive(item.due_at):
            raise ApplicationError("Times need a UTC offset.", fields={"due_at": ["Give a UTC offset."]})
        _validate_assignee(team_id=item.team_id, assignee=item.assignee, agency=item.agency)
        item.save()
        if {"due_at", "assignee", "agency"} & set(changed):
            # The deadline copies its due time and who is responsible: open it afresh.
            notify.deadline_cancel(rule_code=ACTION_ITEM_RULE, target=item, reason="action item changed", actor=actor)
            notify.deadline_open(
                rule_code=ACTION_ITEM_RULE, target=item, starts_at=_now(), actor=actor, due_at=item.due_at
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
        item = _action_item_set_status(item=item, status=data["status"], actor=actor)
    return item


# --- personal calendar feeds ----------------------------------------------------------------------


@transaction.atomic
def calendar_feed_rotate(*, actor: Any) -> tuple[CalendarFeed, str]:
    """Create the caller's feed, or replace its secret (the old URL stops working). Returns the
    feed and the new secret, which is stored only as a hash and shown this once."""
    if not may_sit_on_team(actor):
        raise ApplicationError("Calendar feeds are for MDT team members.", code="forbidden")
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.update_or_create(
        user=actor,
        defaults={"token_hash": selectors.calendar_feed_token_hash(token), "created_at": _now(), "revoked_at": None},
    )
    audit_record(
        actor=actor,
        action=Action.CREATE if created else Action.UPDATE,
        object_type="mdt_calendar_feed",
        object_id=feed.pk,
        detail={"rotated": not created},
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, actor: Any) -> int:
    revoked = CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=_now())
    feed = CalendarFeed.objects.filter(user=actor).only("id").first()
    audit_record(
        actor=actor,
        action=Action.DELETE,
        object_type="mdt_calendar_feed",
        object_id=feed.pk if feed else "",
        detail={"revoked": revoked},
    )
    return revoked
