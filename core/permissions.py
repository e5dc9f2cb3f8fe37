"""Roles (SPEC §1) and the predicates and DRF permission classes built on them."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework.permissions import BasePermission


class Role(models.TextChoices):
    CASE_WORKER = "case_worker", "Case worker"
    SUPERVISOR = "supervisor", "Supervisor"
    MDT_MEMBER = "mdt_member", "MDT member"
    AGENCY_ADMIN = "agency_admin", "Agency admin"
    SYSTEM_ADMIN = "system_admin", "System admin"
    AUDITOR = "auditor", "Auditor"
    #: Reads the aggregate, small-cell suppressed reports of SPEC §9 and nothing person-level.
    ANALYST = "analyst", "Analyst"


#: Roles that may read case data at all (admins and auditors never do: separation of duties).
CASE_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR})
ADMIN_ROLES = frozenset({Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN})
#: Roles that must use MFA (SPEC §8).
MFA_ROLES = frozenset({Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN, Role.AUDITOR})
#: The two sides of the separation-of-duties line (SPEC §1): a role moves within a side, never
#: across it on one account. Every role not named here (admins, auditors, analysts…) is non-case.
CASE_SIDE_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR, Role.MDT_MEMBER})


def is_case_side_role(role: str) -> bool:
    return role in CASE_SIDE_ROLES


#: Roles an agency admin may hand out; system_admin, auditor and analyst only a system admin may.
AGENCY_ADMIN_GRANTABLE = frozenset({Role.CASE_WORKER, Role.SUPERVISOR, Role.MDT_MEMBER, Role.AGENCY_ADMIN})


def role_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.SYSTEM_ADMIN
    return user.role


def is_system_admin(user: Any) -> bool:
    return role_of(user) == Role.SYSTEM_ADMIN


def is_agency_admin(user: Any) -> bool:
    return role_of(user) == Role.AGENCY_ADMIN


def is_admin(user: Any) -> bool:
    return role_of(user) in ADMIN_ROLES


def is_auditor(user: Any) -> bool:
    return role_of(user) == Role.AUDITOR


def is_analyst(user: Any) -> bool:
    return role_of(user) == Role.ANALYST


def is_case_role(user: Any) -> bool:
    return role_of(user) in CASE_ROLES


def is_supervisor(user: Any) -> bool:
    return role_of(user) == Role.SUPERVISOR


def is_mdt_member_role(user: Any) -> bool:
    return role_of(user) == Role.MDT_MEMBER


def has_role(*roles: str) -> type[BasePermission]:
    """`permission_classes = [has_role(Role.AUDITOR)]` — 403 for any other authenticated role."""
    allowed = frozenset(roles)

    class _HasRole(BasePermission):
        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.is_authenticated) and role_of(request.user) in allowed

    _HasRole.__name__ = "HasRole_" + "_".join(sorted(allowed))
    return _HasRole
