"""Attendance: a team member marks who was present at a published or held meeting."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from mdt import selectors
from mdt.models import Attendance, Meeting
from mdt.services.guards import forbid_unless_member, lock_meeting, require_in_session

Action = AuditEvent.Action


NOT_AN_ATTENDEE = "Only the team's members and the people presenting an item of this meeting can be marked."


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, user: User, present: bool, agency: Agency | None = None, actor: Any
) -> tuple[Attendance, bool]:
    """Mark `user` present or absent. SPEC §4: only the team's members and the people presenting
    an item of this meeting can be marked (see `selectors.may_attend`), each as their own agency."""
    meeting = lock_meeting(meeting)
    forbid_unless_member(actor=actor, team=meeting.team)
    require_in_session(meeting)
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
    assert agency is not None  # may_attend requires the user's agency
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
