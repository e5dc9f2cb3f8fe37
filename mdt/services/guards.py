"""What every MDT service checks first: the meeting's row lock, the caller's place on the team
(403) and what the meeting's status still allows (409)."""

from __future__ import annotations

from typing import Any

from core.errors import ApplicationError
from mdt import selectors
from mdt.models import MDTTeam, Meeting


def forbid_unless_coordinator(*, actor: Any, team_id: int) -> None:
    if not selectors.is_coordinator(user=actor, team=team_id):
        raise ApplicationError("Only the team's coordinators may do that.", code="forbidden")


def forbid_unless_member(*, actor: Any, team: MDTTeam) -> None:
    """SPEC §1: an MDT member records attendance and review outcomes at their team's meetings
    (building and publishing the agenda stays with the coordinators)."""
    if not selectors.is_team_member(user=actor, team=team):
        raise ApplicationError("Only the team's members may do that.", code="forbidden")


def lock_meeting(meeting: Meeting) -> Meeting:
    """Re-read the meeting under a row lock: agenda positions and status changes of one meeting
    are serialised (on SQLite the IMMEDIATE transaction already is)."""
    return Meeting.objects.select_for_update(of=("self",)).select_related("team").get(pk=meeting.pk)


def conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict")


def require_unlocked(meeting: Meeting) -> None:
    if meeting.is_locked:
        raise conflict("The meeting's minutes are final or the meeting was cancelled; it can no longer change.")


def require_in_session(meeting: Meeting) -> None:
    require_unlocked(meeting)
    if not meeting.in_session:
        raise conflict("That is recorded once the agenda is published.")
