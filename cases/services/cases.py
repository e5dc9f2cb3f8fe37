"""Writes of a case (SPEC §2): its number, opening it (an accepted referral does), editing
and closing it, its team — and the check every write on a case's parts makes
(`case_for_write`). Its participating agencies are written by `sharing` only; the
`case_agency_*` services here hand over to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from accounts.models import Agency, User
from core.errors import ApplicationError
from core.etags import check_if_match
from core.permissions import CASE_ROLES, role_of
from notifications.services import deadlines

from .. import signals
from ..models import Case, CaseAgency, CaseNumberSequence, CaseTeamMember, MissingEpisode, Youth
from ..permissions import CaseAccess
from ..selectors.visibility import agency_participates, case_access, case_get_visible
from . import sharing
from ._common import Action, _audit, _forbidden, _lock, _save


def case_number_allocate(*, year: int | None = None) -> str:
    """The next case number of the year, H-YYYY-NNNNNN: one counter row per year, incremented
    under a row lock inside the caller's transaction, so numbers are unique and — since a
    rolled-back case rolls its increment back too — without gaps."""
    year = year or timezone.localdate().year
    CaseNumberSequence.objects.bulk_create([CaseNumberSequence(year=year, last=0)], ignore_conflicts=True)
    seq = CaseNumberSequence.objects.select_for_update().get(year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"H-{year}-{seq.last:06d}"


def _case_open(*, youth: Youth, lead_agency: Agency, actor: User, now: dt.datetime) -> Case:
    case = Case(youth=youth, number=case_number_allocate(), lead_agency=lead_agency)
    _save(case, actor=actor)
    # The one system event that writes a participation (SPEC §1): the new case's lead row.
    sharing.participation_lead_create(case=case, actor=actor, now=now)
    _audit(actor, Action.CREATE, "case", case, youth.pk, number=case.number, lead_agency=lead_agency.code)
    return case


def _team_add(*, case: Case, user: User, case_role: str, actor: User) -> CaseTeamMember:
    member = CaseTeamMember(case=case, user=user, case_role=case_role, added_by=actor)
    _save(member, actor=actor)
    _audit(
        actor,
        Action.ACCESS_CHANGE,
        "case_team_member",
        member,
        case.youth_id,
        case=case.pk,
        user=user.pk,
        role=case_role,
    )
    return member


CASE_CLOSED = "The case is closed: it takes notes only. A supervisor of the lead agency can reopen it."


def case_closed_error() -> ApplicationError:
    """The answer (409) to any write but a note on a closed case (SPEC §2)."""
    return ApplicationError(CASE_CLOSED, code="conflict")


def _require_case_open(case: Case) -> None:
    if case.status != Case.Status.OPEN:
        raise case_closed_error()


def case_for_write(*, case_id: int, actor: Any, closed_ok: bool = False) -> tuple[Case, CaseAccess]:
    """The one check every write on a case's parts makes, inside its own transaction: the actor
    still sees the case — through the same selector as the read, so a participation that
    expired or was revoked since the page was loaded stops the write (404) — and what they may
    do on it. A stale `CaseAccess` handed in by a caller is never trusted.

    A closed case takes notes and nothing else (SPEC §2): every other write answers 409, unless
    the caller says `closed_ok` (notes; the facts that meet the law's clocks still open)."""
    case = case_get_visible(user=actor, pk=case_id)
    if not closed_ok:
        _require_case_open(case)
    return case, case_access(user=actor, case=case)


CASE_EDITABLE = ("court", "csec_status")


@transaction.atomic
def case_update(*, case: Case, actor: User, data: Mapping[str, Any], if_match: str | None = None) -> Case:
    access = case_access(user=actor, case=case)
    if not access.can_edit_case:
        raise _forbidden("Only the lead agency edits the case.")
    case = _lock(Case, case.pk)
    check_if_match(case, if_match)
    _require_case_open(case)
    old_court = case.court
    changed = [n for n in CASE_EDITABLE if n in data and getattr(case, n) != data[n]]
    for name in changed:
        setattr(case, name, data[name])
    if changed:
        _save(case, actor=actor)
    if "court" in changed:
        # WIC 827/830: the court's MDT shares end, and the case leaves the old court's agendas
        # (mdt receives the signal in this transaction).
        sharing.participations_end_with_court(case=case, actor=actor, reason="court_changed")
        signals.case_court_changed.send(sender=Case, case=case, old_court=old_court, new_court=case.court, actor=actor)
    _audit(actor, Action.UPDATE, "case", case, case.youth_id, fields=changed)
    return case


RENEWAL_RULE = sharing.RENEWAL_RULE


def _renewal_participations(case: Case) -> Any:
    return CaseAgency.objects.filter(case_id=case.pk, legal_basis=CaseAgency.LegalBasis.MDT_18961_7)


#: Close's and reopen's refusal (409) when the case's status machine does not allow the move.
NOT_ALLOWED_NOW = {"close": "The case is already closed.", "reopen": "The case is open."}


def _lead_decision(*, case: Case, actor: User, reason: str, verb: str, transition: str) -> tuple[Case, str]:
    """Close's and reopen's shared checks: the case locked, the actor a supervisor of the lead
    agency, its status machine allowing `transition` from the case's status (409 otherwise), a
    reason given. Returns the locked case and the reason."""
    access = case_access(user=actor, case=case)
    case = _lock(Case, case.pk)
    if not access.can_close_case:
        raise _forbidden(f"Only a supervisor of the lead agency {verb} the case.")
    if not can_proceed(getattr(case, transition)):
        raise ApplicationError(NOT_ALLOWED_NOW[transition], code="conflict")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(f"Say why the case {verb}.", fields={"reason": ["This field may not be blank."]})
    return case, reason


@transaction.atomic
def case_close(*, case: Case, actor: User, reason: str) -> Case:
    """Close the case (SPEC §2): a supervisor of the lead agency, with a reason, never while a
    missing episode is open (the youth is still missing). Closing cancels the sharing-renewal
    clocks, ends the `court_mdt` shares and — through `signals.case_closed`, which mdt receives
    — cancels the open action items and takes the case off unpublished agendas. The law's
    reporting duties (the referral's clocks, a missing episode's reports and debrief) stay open."""
    case, reason = _lead_decision(case=case, actor=actor, reason=reason, verb="closes", transition="close")
    if MissingEpisode.objects.filter(case_id=case.pk, returned_at__isnull=True).exists():
        raise ApplicationError(
            "The youth is still missing: record the return on the missing episode before closing the case.",
            code="conflict",
        )
    case.close()
    case.close_reason = reason
    case.closed_at = timezone.now()
    _save(case, actor=actor)
    sharing.participations_end_with_court(case=case, actor=actor, reason="case_closed")
    for participation in _renewal_participations(case):
        deadlines.deadline_cancel(rule_code=RENEWAL_RULE, target=participation, reason="case closed", actor=actor)
    signals.case_closed.send(sender=Case, case=case, actor=actor)
    _audit(actor, Action.TRANSITION, "case", case, case.youth_id, to="closed")
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str) -> Case:
    """Reopen a closed case (SPEC §2): a supervisor of the lead agency, with a reason. Nothing
    closing ended comes back by itself: `court_mdt` shares need a new grant, cancelled action
    items stay cancelled, the case is put on agendas again by a coordinator. A WIC 18961.7
    share still running gets its renewal clock again. 409 when the youth has another open case."""
    case, reason = _lead_decision(case=case, actor=actor, reason=reason, verb="reopens", transition="reopen")
    if Case.objects.filter(youth_id=case.youth_id, status=Case.Status.OPEN).exclude(pk=case.pk).exists():
        raise ApplicationError(
            "The youth has another open case: work that one, or close it before reopening this one.",
            code="conflict",
        )
    now = timezone.now()
    case.reopen()
    case.reopened_at = now
    case.reopen_reason = reason
    _save(case, actor=actor)
    for participation in _renewal_participations(case):
        if sharing.is_active(participation, now=now) and participation.expires_at is not None:
            deadlines.deadline_open(
                rule_code=RENEWAL_RULE,
                target=participation,
                starts_at=now,
                due_at=participation.expires_at,
                actor=actor,
            )
    _audit(actor, Action.TRANSITION, "case", case, case.youth_id, to="open")
    return case


@transaction.atomic
def case_team_member_add(*, case: Case, actor: User, user: User, case_role: str) -> CaseTeamMember:
    case, access = case_for_write(case_id=case.pk, actor=actor)
    if not access.can_add_team_member(user):
        raise _forbidden("Only a supervisor of the lead agency (or of the member's own agency) assigns the team.")
    if not user.is_active or role_of(user) not in CASE_ROLES:
        raise ApplicationError(
            "Only active case workers and supervisors join a case team.", fields={"user": ["Not eligible."]}
        )
    if user.agency_id is None or not agency_participates(case=case, agency_id=user.agency_id):
        raise ApplicationError(
            "That person's agency does not participate in this case.", fields={"user": ["Agency not participating."]}
        )
    _lock(Case, case.pk)
    if CaseTeamMember.objects.filter(case=case, user=user, removed_at__isnull=True).exists():
        raise ApplicationError("Already on the case team.", code="conflict")
    return _team_add(case=case, user=user, case_role=case_role, actor=actor)


@transaction.atomic
def case_team_member_remove(*, member: CaseTeamMember, actor: User) -> CaseTeamMember:
    member = CaseTeamMember.objects.select_for_update().select_related("case", "user").get(pk=member.pk)
    _, access = case_for_write(case_id=member.case_id, actor=actor)
    if not access.can_add_team_member(member.user):
        raise _forbidden("Only a supervisor of the lead agency (or of the member's own agency) changes the team.")
    if member.removed_at is not None:
        raise ApplicationError("Already removed.", code="conflict")
    member.removed_at = timezone.now()
    _save(member, actor=actor)
    _audit(
        actor,
        Action.ACCESS_CHANGE,
        "case_team_member",
        member,
        member.case.youth_id,
        case=member.case_id,
        user=member.user_id,
        removed=True,
    )
    return member


# Participations are written by cases/services/sharing.py only (SPEC §1 "Sharing has one door"); these
# keep the services' names for the API and the tests.


def case_agency_grant(
    *,
    case: Case,
    actor: User,
    agency: Agency,
    legal_basis: str,
    expires_at: dt.datetime | None = None,
    good_cause: str = "",
) -> CaseAgency:
    return sharing.participation_grant(
        case=case, actor=actor, agency=agency, legal_basis=legal_basis, expires_at=expires_at, good_cause=good_cause
    )


def case_agency_renew(
    *, participation: CaseAgency, actor: User, good_cause: str = "", expires_at: dt.datetime | None = None
) -> CaseAgency:
    return sharing.participation_renew(
        participation=participation, actor=actor, good_cause=good_cause, expires_at=expires_at
    )


def case_agency_revoke(*, participation: CaseAgency, actor: User) -> CaseAgency:
    return sharing.participation_revoke(participation=participation, actor=actor)
