"""Who may sit on an MDT team (SPEC §1, §4)."""

from __future__ import annotations

from typing import Any

from core.permissions import Role, role_of

#: Roles that may be members of a court MDT team. Admins and auditors never are: agendas are
#: case data (separation of duties).
TEAM_ROLES = frozenset({Role.MDT_MEMBER, Role.CASE_WORKER, Role.SUPERVISOR})


def may_sit_on_team(user: Any) -> bool:
    return bool(user is not None and user.is_active and role_of(user) in TEAM_ROLES and user.agency_id)
