"""Meetings: scheduling (one or a weekly series), editing time, place and minutes, and the
status transitions — publish the agenda, mark held, finalise the minutes, cancel — each its own
service; `meeting_change` is the PATCH of a meeting (fields, then at most one transition)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.etags import check_if_match
from mdt import exports, selectors
from mdt.models import AgendaChange, MDTTeam, Meeting
from mdt.services.change_notices import agenda_change_record
from mdt.services.guards import conflict, forbid_unless_coordinator, lock_meeting, require_unlocked
from notifications.services import deadlines as notify
from notifications.services import notices

AGENDA_PUBLISH_RULE = "agenda_publish_48h"
AGENDA_PUBLISH_LEAD = dt.timedelta(hours=48)
MAX_MEETING_LENGTH = dt.timedelta(hours=12)
MAX_SERIES = 52

Action = AuditEvent.Action


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


PAST_MESSAGE = "A meeting cannot be scheduled in the past: send a start time from now on."


def _refuse_past(starts_at: dt.datetime) -> None:
    """SPEC §4: a meeting cannot be scheduled (or moved) into the past."""
    if starts_at < timezone.now():
        raise ApplicationError(PAST_MESSAGE, fields={"starts_at": [PAST_MESSAGE]})


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
    forbid_unless_coordinator(actor=actor, team_id=team.pk)
    _validate_times(starts_at, ends_at)
    _refuse_past(starts_at)
    count = count if repeat_weekly else 1
    if not 1 <= count <= MAX_SERIES:
        raise ApplicationError("A series has 1 to 52 meetings.", fields={"count": [f"Between 1 and {MAX_SERIES}."]})
    length = ends_at - starts_at
    series = uuid.uuid4() if count > 1 else None
    now = timezone.now()
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
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    require_unlocked(meeting)
    changed = [name for name in MEETING_EDITABLE_FIELDS if name in data and getattr(meeting, name) != data[name]]
    schedule_changed = [name for name in changed if name != "minutes"]
    if schedule_changed and not meeting.agenda_editable:
        raise conflict("A meeting that was held cannot be moved.")
    if "minutes" in changed and not meeting.in_session:
        raise conflict("Minutes are recorded once the agenda is published.")
    if not changed:
        return meeting
    old_starts_at = meeting.starts_at
    for name in changed:
        setattr(meeting, name, data[name])
    _validate_times(meeting.starts_at, meeting.ends_at)
    if "starts_at" in changed:
        _refuse_past(meeting.starts_at)
    if schedule_changed:
        meeting.sequence += 1
    # The history names the author outside a request too.
    meeting._history_user = actor  # noqa: SLF001 - simple-history's (documented) history-author attribute
    meeting.save()
    if "starts_at" in changed and meeting.status == Meeting.Status.SCHEDULED and old_starts_at != meeting.starts_at:
        # The agenda is now due two days before the new start.
        notify.deadline_cancel(rule_code=AGENDA_PUBLISH_RULE, target=meeting, reason="rescheduled", actor=actor)
        notify.deadline_open(
            rule_code=AGENDA_PUBLISH_RULE,
            target=meeting,
            starts_at=timezone.now(),
            actor=actor,
            due_at=meeting.starts_at - AGENDA_PUBLISH_LEAD,
        )
    # After publishing, the members are told what changed (batched: services/change_notices.py).
    if {"starts_at", "ends_at"} & set(changed):
        agenda_change_record(meeting=meeting, kind=AgendaChange.Kind.TIME, actor=actor, old_starts_at=old_starts_at)
    if "location" in changed:
        agenda_change_record(meeting=meeting, kind=AgendaChange.Kind.PLACE, actor=actor)
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
        raise conflict(message)
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
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "publish", "Only a scheduled meeting's agenda can be published.")
    now = timezone.now()
    meeting.published_at = now
    meeting.save()
    notify.deadline_meet(rule_code=AGENDA_PUBLISH_RULE, target=meeting, met_at=now, actor=actor)
    notices.meeting_members_notify(meeting=meeting, event="published", actor=actor)
    _audit_transition(actor, meeting, source)
    exports.agenda_pages_prepare_on_commit(meeting)
    return meeting


@transaction.atomic
def meeting_hold(*, meeting: Meeting, actor: Any) -> Meeting:
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "hold", "Only a published meeting can be marked held.")
    meeting.held_at = timezone.now()
    meeting.save()
    _audit_transition(actor, meeting, source)
    return meeting


@transaction.atomic
def meeting_finalize_minutes(*, meeting: Meeting, minutes: str | None = None, actor: Any) -> Meeting:
    """Lock the meeting: after this nothing about it changes (409)."""
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "finalize_minutes", "Only the minutes of a held meeting can be finalised.")
    if minutes is not None:
        meeting.minutes = minutes
    if not (meeting.minutes or "").strip():
        raise ApplicationError("Record the minutes before finalising them.", fields={"minutes": ["Required."]})
    meeting.minutes_finalized_at = timezone.now()
    meeting._history_user = actor  # noqa: SLF001 - simple-history's (documented) history-author attribute
    meeting.save()
    _audit_transition(actor, meeting, source)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str = "", actor: Any) -> Meeting:
    meeting = lock_meeting(meeting)
    forbid_unless_coordinator(actor=actor, team_id=meeting.team_id)
    source = meeting.status
    _transition(meeting, "cancel", "Only a scheduled or published meeting can be cancelled.")
    meeting.cancelled_at = timezone.now()
    meeting.cancel_reason = reason
    meeting.sequence += 1
    meeting.save()
    if source == Meeting.Status.SCHEDULED:
        notify.deadline_cancel(rule_code=AGENDA_PUBLISH_RULE, target=meeting, reason="meeting cancelled", actor=actor)
    else:
        # A cancellation is told at once, whatever was told in the last 15 minutes.
        # ... and never to the person who cancelled it (SPEC §4).
        others = [u for u in selectors.team_members(team_id=meeting.team_id) if u.pk != actor.pk]
        notices.meeting_members_notify(meeting=meeting, event="cancelled", actor=actor, recipients=others)
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
    meeting = lock_meeting(meeting)
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
    raise conflict("A meeting cannot go back to scheduled.")
