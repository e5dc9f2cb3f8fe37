"""Who may do what on a youth, referral or case they can already see (SPEC §1).

Visibility (404) is decided by cases/selectors/visibility.py; these predicates decide the
actions (403) on objects the user may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import Agency, User
from core.permissions import CASE_ROLES, Role, role_of


def clinical_agency_codes() -> frozenset[str]:
    """Agency codes whose users may write and read clinical (mental-health) notes (WIC 5328):
    the deployment's HARBOR_CLINICAL_AGENCIES, read on every call (SPEC §1)."""
    return frozenset(settings.HARBOR_CLINICAL_AGENCIES)


class CaseDataRole(BasePermission):
    """Only case workers and supervisors reach case data at all. For the other roles (admins,
    auditors, MDT members — who read cases only through the MDT agenda view) a path that names
    an object answers 404, as for any object one may not see (SPEC §1: never a hint that it
    exists); a collection path answers 403, the role itself being refused."""

    message = "Your role has no access to case data."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (isinstance(user, User) and user.is_authenticated):
            return False
        if role_of(user) in CASE_ROLES and user.agency_id is not None:
            return True
        if view.kwargs:
            raise NotFound()
        return False


def is_clinical_agency(agency: Agency | None) -> bool:
    # Only the configured codes: an agency's `kind` is editable in the admin and must not decide
    # who reads clinical notes.
    return agency is not None and agency.code in clinical_agency_codes()


def is_clinical_user(user: Any) -> bool:
    return role_of(user) in CASE_ROLES and is_clinical_agency(getattr(user, "agency", None))


def is_case_supervisor(user: Any) -> bool:
    return role_of(user) == Role.SUPERVISOR


@dataclass(frozen=True)
class CaseAccess:
    """What one user (who may see the case) may do on it."""

    user: Any
    case: Any
    on_team: bool
    agency_is_lead: bool

    @property
    def is_supervisor(self) -> bool:
        return is_case_supervisor(self.user)

    @property
    def is_lead_supervisor(self) -> bool:
        return self.agency_is_lead and self.is_supervisor

    @property
    def can_see_protected(self) -> bool:
        """Placement addresses and protected alert details: the lead agency's case team only."""
        return self.agency_is_lead and self.on_team

    @property
    def can_edit_case(self) -> bool:
        return self.agency_is_lead and (self.is_supervisor or self.on_team)

    @property
    def can_close_case(self) -> bool:
        return self.is_lead_supervisor

    @property
    def can_manage_agencies(self) -> bool:
        return self.is_lead_supervisor

    @property
    def can_write_clinical(self) -> bool:
        # The user already sees the case: a DMH case-team member, or a DMH supervisor of a
        # participating DMH.
        return is_clinical_user(self.user)

    @property
    def can_read_clinical(self) -> bool:
        return is_clinical_user(self.user)

    def can_add_team_member(self, member: Any) -> bool:
        if self.is_lead_supervisor:
            return True
        return self.is_supervisor and member.agency_id == self.user.agency_id


def can_decide_referral(user: Any, referral: Any) -> bool:
    """Screen, accept, decline, mark duplicate: supervisors of the receiving agency."""
    return is_case_supervisor(user) and user.agency_id == referral.receiving_agency_id


def can_merge_youth(user: Any) -> bool:
    """The role part of the merge right; the records' part is `may_merge_record`."""
    return is_case_supervisor(user)


def can_edit_youth_identity(user: Any, *, youth: Any, open_cases: Iterable[CaseAccess]) -> bool:
    """SPEC §1: a youth's identity (names, date of birth, aliases, external ids, contact
    details) is edited by the lead agency's case team and supervisors of the youth's open case
    (`open_cases`: the user's access to each open case of the youth), or — when the youth has no
    open case — by the agency holding the record: its supervisors, and the record's creator
    while a case worker of it."""
    accesses = list(open_cases)
    if accesses:
        return any(access.can_edit_case for access in accesses)
    if role_of(user) not in CASE_ROLES or user.agency_id != youth.holding_agency_id:
        return False
    return is_case_supervisor(user) or (role_of(user) == Role.CASE_WORKER and youth.created_by_id == user.pk)


@dataclass(frozen=True)
class RecordCharge:
    """Who has a youth record in their charge (SPEC §2): the lead agency of each of its open
    cases, or the agency holding it when it has no open case; and the agencies the lead has
    shared an open case with (an active participation)."""

    agency_ids: frozenset[int]
    shared_with: frozenset[int] = frozenset()


def may_merge_record(user: Any, charge: RecordCharge) -> bool:
    """SPEC §2: merging is for a supervisor whose agency has both records in its charge;
    duplicates in the charge of two agencies are merged only after one of them has shared the
    case with the other. Read per record: the supervisor's agency has it in its charge, or the
    agency that has it in its charge has shared that record's open case with the supervisor's
    agency. (A record with no open case cannot be shared: only its holding agency merges it.)"""
    if not can_merge_youth(user) or not user.agency_id:
        return False
    return user.agency_id in charge.agency_ids or user.agency_id in charge.shared_with
