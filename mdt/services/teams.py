"""Team membership: a system admin adds people to a court's MDT team, makes them coordinators
and removes them."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import is_system_admin
from mdt.models import MDTTeam, TeamMembership
from mdt.permissions import may_sit_on_team

Action = AuditEvent.Action


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
