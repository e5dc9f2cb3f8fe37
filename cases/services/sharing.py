"""Sharing has one door (SPEC §1 "Participation", "Sharing has one door").

This module is the ONLY writer of participations (`CaseAgency` rows) in the product:
`tests/security/test_single_writer.py` greps the source tree and fails when any other module
creates or updates one. The writers are:

- `participation_lead_create` — the one system event SPEC names: the `lead` row of a case that
  an accepted referral creates;
- `participation_grant`, `participation_renew`, `participation_revoke` — the lead agency's
  supervisors, through `POST /api/v1/cases/{id}/agencies/`, `…/{code}/renew/`, `…/{code}/revoke/`;
- `share_request_approve` — the lead agency's supervisors again, through the same grant.

Accepting a referral never writes a participation for anybody but that `lead` row: when the
youth's open case is led by another agency, the accept links the referral and raises a share
request (`share_request_raise`) that the lead agency's supervisors approve or decline.

WIC 18961.7 sharing lasts "30 days following a report": the period counts from the report (the
`received_at` of the accepted referral that created the case), not from each grant. Once that
period is over, a grant or a renewal needs a recorded good cause and lasts 30 days at most.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import Role
from notifications.services import deadlines, notices

from ..models import Case, CaseAgency, Referral, ShareRequest
from ..selectors.visibility import case_access, participation_active_q

Action = AuditEvent.Action
LegalBasis = CaseAgency.LegalBasis

#: WIC 18961.7 county MDT sharing: 30 days after the report; renewed with a recorded good
#: cause, up to 30 days at a time.
MDT_SHARING_PERIOD = dt.timedelta(days=30)
RENEWAL_RULE = "sharing_renewal_30d"
#: The notice kind of a new share request (an email preference like the deadline rules).
SHARE_REQUEST_NOTICE = "share_request"


# --- helpers ---------------------------------------------------------------------------------------


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="forbidden")


def _conflict(message: str) -> ApplicationError:
    return ApplicationError(message, code="conflict")


def _write(participation: CaseAgency, *, actor: Any) -> None:
    """The one place a participation row is saved (the history row names `actor`)."""
    participation._history_user = actor if getattr(actor, "pk", None) else None  # noqa: SLF001 - simple-history's (documented) history-author attribute
    participation.save()


def _audit(actor: Any, obj: Any, object_type: str, youth_id: int | None, action: str, **detail: Any) -> None:
    audit_record(
        actor=actor, action=action, object_type=object_type, object_id=obj.pk, youth_id=youth_id, detail=detail
    )


def _audit_access_change(actor: Any, participation: CaseAgency, **detail: Any) -> None:
    """Every change of a participation is an `access_change` event naming the case and agency."""
    case = participation.case
    _audit(
        actor,
        participation,
        "case_agency",
        case.youth_id,
        Action.ACCESS_CHANGE,
        case=case.pk,
        agency=participation.agency.code,
        **detail,
    )


def _require_lead_supervisor(*, actor: Any, case: Case, message: str) -> None:
    if not case_access(user=actor, case=case).can_manage_agencies:
        raise _forbidden(message)


def _lock_non_lead(participation: CaseAgency, *, actor: Any, forbidden: str, lead: str, revoked: str) -> CaseAgency:
    """Lock a participation a lead supervisor is about to renew or revoke: 403 for anyone else,
    409 for the lead's own row or one already revoked (each action says why in its words)."""
    participation = CaseAgency.objects.select_for_update().select_related("case", "agency").get(pk=participation.pk)
    _require_lead_supervisor(actor=actor, case=participation.case, message=forbidden)
    if participation.legal_basis == LegalBasis.LEAD:
        raise _conflict(lead)
    if participation.revoked_at is not None:
        raise _conflict(revoked)
    return participation


def _require_open(case: Case) -> None:
    if case.status != Case.Status.OPEN:
        raise _conflict("The case is closed; reopen it before sharing it.")


def is_active(participation: CaseAgency, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return participation.revoked_at is None and (participation.expires_at is None or participation.expires_at > now)


# --- the 18961.7 period ----------------------------------------------------------------------------


def case_report_at(*, case: Case) -> dt.datetime | None:
    """When the report behind the case was received: the `received_at` of the accepted referral
    that created the case (the first referral recorded as accepted into it), or — for cases
    loaded without history — the earliest accepted referral of the case; None if it has none."""
    accepted = Referral.objects.filter(case_id=case.pk, status=Referral.Status.ACCEPTED)
    first_id = (
        Referral.history.filter(case_id=case.pk, status=Referral.Status.ACCEPTED)
        .order_by("history_date", "history_id")
        .values_list("id", flat=True)
        .first()
    )
    if first_id is not None:
        received = accepted.filter(pk=first_id).values_list("received_at", flat=True).first()
        if received is not None:
            return received
    return accepted.order_by("received_at", "id").values_list("received_at", flat=True).first()


def mdt_sharing_expiry(*, case: Case, now: dt.datetime, expires_at: dt.datetime | None, good_cause: str) -> dt.datetime:
    """The expiry of a WIC 18961.7 grant made `now`: 30 days after the report by default (the
    grant time when the case has no report); once that has passed, only with a good cause and
    for 30 days at most from now. An `expires_at` asked for may shorten, never lengthen it."""
    report = case_report_at(case=case) or now
    period_end = report + MDT_SHARING_PERIOD
    if period_end > now:
        limit = period_end
        message = "WIC 18961.7 sharing ends 30 days after the report; renew it later with a good cause."
    else:
        if not good_cause.strip():
            raise ApplicationError(
                "The 30 days of WIC 18961.7 after the report are over: sharing needs a recorded good cause.",
                fields={"good_cause": ["Required once 30 days have passed since the report."]},
            )
        limit = now + MDT_SHARING_PERIOD
        message = "WIC 18961.7 sharing lasts 30 days at most; renew it with a good cause."
    if expires_at is None:
        return limit
    if expires_at > limit:
        raise ApplicationError(message, fields={"expires_at": [f"At most {limit.isoformat()}."]})
    return expires_at


def _validate_basis(*, legal_basis: str, expires_at: dt.datetime | None, now: dt.datetime) -> None:
    if legal_basis == LegalBasis.LEAD:
        raise ApplicationError(
            "The lead agency is set when the case opens.", fields={"legal_basis": ["Not grantable."]}
        )
    if expires_at is not None and expires_at <= now:
        raise ApplicationError("Expiry must be in the future.", fields={"expires_at": ["Must be in the future."]})
    if legal_basis == LegalBasis.CONSENT and expires_at is None:
        raise ApplicationError(
            "A consent grant ends with the authorization.", fields={"expires_at": ["Required for consent."]}
        )


def _renewal_clock_restart(participation: CaseAgency, *, now: dt.datetime, actor: Any, reason: str) -> None:
    """Close the running renewal clock (met by a renewal, cancelled by anything else) and, under
    WIC 18961.7, open one due at the participation's expiry."""
    if reason == "renewed":
        deadlines.deadline_meet(rule_code=RENEWAL_RULE, target=participation, met_at=now, actor=actor)
    else:
        deadlines.deadline_cancel(rule_code=RENEWAL_RULE, target=participation, reason=reason, actor=actor)
    if participation.legal_basis == LegalBasis.MDT_18961_7 and is_active(participation, now=now):
        deadlines.deadline_open(
            rule_code=RENEWAL_RULE,
            target=participation,
            starts_at=now,
            due_at=participation.expires_at,
            actor=actor,
        )


# --- the system event: the lead row of a new case -------------------------------------------------


def participation_lead_create(*, case: Case, actor: Any, now: dt.datetime) -> CaseAgency:
    """The `lead` row of a case an accepted referral has just created (SPEC §1: the one system
    event that writes a participation). Runs inside the accept's transaction."""
    if CaseAgency.objects.filter(case_id=case.pk).exists():
        raise _conflict("The case already has participations.")
    participation = CaseAgency(
        case=case,
        agency_id=case.lead_agency_id,
        legal_basis=LegalBasis.LEAD,
        granted_by=actor if getattr(actor, "pk", None) else None,
        granted_at=now,
    )
    _write(participation, actor=actor)
    return participation


# --- the lead supervisors' door --------------------------------------------------------------------


@transaction.atomic
def participation_grant(
    *,
    case: Case,
    actor: User,
    agency: Agency,
    legal_basis: str,
    expires_at: dt.datetime | None = None,
    good_cause: str = "",
) -> CaseAgency:
    """Share the case with `agency` (or restore a revoked or expired participation): the lead
    agency's supervisors only. WIC 18961.7 grants count from the report (`mdt_sharing_expiry`);
    sharing again under 18961.7 what was shared under it before needs a recorded good cause.
    Settles the agency's pending share request of the case, if any."""
    _require_lead_supervisor(actor=actor, case=case, message="Only a supervisor of the lead agency shares the case.")
    now = timezone.now()
    good_cause = (good_cause or "").strip()
    _validate_basis(legal_basis=legal_basis, expires_at=expires_at, now=now)
    case = Case.objects.select_for_update().get(pk=case.pk)
    _require_open(case)
    if agency.pk == case.lead_agency_id:
        raise _conflict("That agency leads the case.")
    if legal_basis == LegalBasis.COURT_MDT and not case.court:
        # WIC 827/830 sharing is for the court's MDT: it exists only while the case has a court.
        raise ApplicationError(
            "Sharing for the court's MDT needs the case's court: set the court first.",
            fields={"legal_basis": ["court_mdt needs a court on the case."]},
        )
    participation = CaseAgency.objects.select_for_update().filter(case=case, agency=agency).first()
    if participation is not None:
        if is_active(participation, now=now):
            raise _conflict("That agency already participates; renew the grant instead.")
        if (
            participation.legal_basis == LegalBasis.MDT_18961_7
            and legal_basis == LegalBasis.MDT_18961_7
            and not good_cause
        ):
            raise ApplicationError(
                "Sharing again under WIC 18961.7 needs a recorded good cause.", fields={"good_cause": ["Required."]}
            )
    if legal_basis == LegalBasis.MDT_18961_7:
        expires_at = mdt_sharing_expiry(case=case, now=now, expires_at=expires_at, good_cause=good_cause)
    restored = participation is not None
    if participation is None:
        participation = CaseAgency(case=case, agency=agency)
    participation.legal_basis = legal_basis
    participation.granted_by = actor
    participation.granted_at = now
    participation.expires_at = expires_at
    participation.good_cause = good_cause
    participation.revoked_at = None
    _write(participation, actor=actor)
    if restored:
        _renewal_clock_restart(participation, now=now, actor=actor, reason="granted again")
    elif legal_basis == LegalBasis.MDT_18961_7:
        deadlines.deadline_open(
            rule_code=RENEWAL_RULE, target=participation, starts_at=now, due_at=expires_at, actor=actor
        )
    _audit_access_change(
        actor,
        participation,
        legal_basis=legal_basis,
        expires_at=expires_at.isoformat() if expires_at else None,
        restored=restored,
    )
    _share_requests_settle(case=case, agency=agency, participation=participation, actor=actor, now=now)
    return participation


@transaction.atomic
def participation_renew(
    *, participation: CaseAgency, actor: User, good_cause: str = "", expires_at: dt.datetime | None = None
) -> CaseAgency:
    """Renew a participation for a new period: the lead agency's supervisors only, never a
    revoked one (grant it again). Under WIC 18961.7, and for any participation that has already
    expired, a good cause is required and recorded; 18961.7 renewals last 30 days at most. The
    running renewal clock is met and a new one opens, due at the new expiry."""
    participation = _lock_non_lead(
        participation,
        actor=actor,
        forbidden="Only a supervisor of the lead agency renews sharing.",
        lead="The lead agency's participation does not expire.",
        revoked="That participation was revoked; grant it again.",
    )
    case = participation.case
    _require_open(case)
    now = timezone.now()
    good_cause = (good_cause or "").strip()
    is_mdt = participation.legal_basis == LegalBasis.MDT_18961_7
    expired = not is_active(participation, now=now)
    if (is_mdt or expired) and not good_cause:
        raise ApplicationError(
            "Renewing this sharing needs a recorded good cause.", fields={"good_cause": ["Required."]}
        )
    if is_mdt and expires_at is None:
        expires_at = now + MDT_SHARING_PERIOD
    _validate_basis(legal_basis=participation.legal_basis, expires_at=expires_at, now=now)
    if is_mdt and expires_at is not None and expires_at > now + MDT_SHARING_PERIOD:
        raise ApplicationError(
            "WIC 18961.7 sharing lasts 30 days at most; renew it again with a good cause.",
            fields={"expires_at": ["At most 30 days from now."]},
        )
    participation.expires_at = expires_at
    participation.good_cause = good_cause
    participation.granted_by = actor
    participation.granted_at = now
    _write(participation, actor=actor)
    _renewal_clock_restart(participation, now=now, actor=actor, reason="renewed")
    _audit_access_change(
        actor,
        participation,
        renewed=True,
        expired=expired,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return participation


@transaction.atomic
def participation_revoke(*, participation: CaseAgency, actor: User) -> CaseAgency:
    participation = _lock_non_lead(
        participation,
        actor=actor,
        forbidden="Only a supervisor of the lead agency revokes sharing.",
        lead="The lead agency's participation cannot be revoked.",
        revoked="Already revoked.",
    )
    participation.revoked_at = timezone.now()
    _write(participation, actor=actor)
    deadlines.deadline_cancel(rule_code=RENEWAL_RULE, target=participation, reason="revoked", actor=actor)
    _audit_access_change(
        actor,
        participation,
        revoked=True,
    )
    return participation


def participations_end_with_court(*, case: Case, actor: Any, reason: str) -> int:
    """WIC 827/830: a `court_mdt` share lasts while the case has the court it was granted for.
    When the court changes or is cleared (or the case closes), every such share ends at once:
    the system ends it, in the transaction of the change; only an explicit new grant brings it
    back. Returns how many ended."""
    now = timezone.now()
    ended = 0
    shares = (
        CaseAgency.objects.select_for_update()
        .select_related("agency")
        .filter(case_id=case.pk, legal_basis=LegalBasis.COURT_MDT, revoked_at__isnull=True)
    )
    for participation in shares:
        participation.revoked_at = now
        _write(participation, actor=actor)
        _audit_access_change(
            actor,
            participation,
            revoked=True,
            **{reason: True},
        )
        ended += 1
    return ended


# --- share requests --------------------------------------------------------------------------------


def share_request_raise(*, case: Case, referral: Referral, actor: Any) -> ShareRequest | None:
    """The referral's receiving agency accepted a referral for a youth whose open case another
    agency leads: nothing is granted; the lead agency's supervisors are asked. Nothing is raised
    when the agency already participates; an agency's pending request is reused (one per case
    and agency). Runs inside the accept's transaction; the notice is emailed after commit."""
    agency_id = referral.receiving_agency_id
    if agency_id == case.lead_agency_id:
        return None
    if CaseAgency.objects.filter(participation_active_q(), case_id=case.pk, agency_id=agency_id).exists():
        return None
    pending = (
        ShareRequest.objects.select_for_update()
        .filter(case_id=case.pk, agency_id=agency_id, status=ShareRequest.Status.PENDING)
        .first()
    )
    if pending is not None:
        return pending
    request = ShareRequest(case=case, agency_id=agency_id, referral=referral)
    request._history_user = actor if getattr(actor, "pk", None) else None  # noqa: SLF001 - simple-history's (documented) history-author attribute
    request.save()
    _audit(
        actor,
        request,
        "share_request",
        case.youth_id,
        Action.CREATE,
        case=case.pk,
        agency=referral.receiving_agency.code,
        referral=referral.pk,
    )
    supervisors = User.objects.filter(agency_id=case.lead_agency_id, role=Role.SUPERVISOR, is_active=True).order_by(
        "id"
    )
    notices.users_notify(
        users=list(supervisors),
        kind=SHARE_REQUEST_NOTICE,
        subject_words="Share request",
        reference=f"Case {case.number}",
        link_path="/api/v1/share-requests/",
        case_id=case.pk,
        actor=actor,
        object_type="share_request",
        object_id=request.pk,
    )
    return request


def _share_request_lock(share_request: ShareRequest, actor: Any) -> ShareRequest:
    request = ShareRequest.objects.select_for_update().select_related("case", "agency").get(pk=share_request.pk)
    _require_lead_supervisor(
        actor=actor, case=request.case, message="Only a supervisor of the lead agency decides a share request."
    )
    if request.status != ShareRequest.Status.PENDING:
        raise _conflict(f"This share request was already {request.status}.")
    return request


def _share_requests_settle(
    *, case: Case, agency: Agency, participation: CaseAgency, actor: Any, now: dt.datetime
) -> None:
    """A grant answers the agency's pending share request of the case: it is approved by it."""
    for request in ShareRequest.objects.select_for_update().filter(
        case_id=case.pk, agency_id=agency.pk, status=ShareRequest.Status.PENDING
    ):
        request.status = ShareRequest.Status.APPROVED
        request.decided_by = actor
        request.decided_at = now
        request.participation = participation
        request._history_user = actor  # noqa: SLF001 - simple-history's (documented) history-author attribute
        request.save()
        _audit(
            actor,
            request,
            "share_request",
            case.youth_id,
            Action.ACCESS_CHANGE,
            case=case.pk,
            agency=agency.code,
            approved=True,
            participation=participation.pk,
        )


@transaction.atomic
def share_request_approve(
    *,
    share_request: ShareRequest,
    actor: User,
    legal_basis: str,
    expires_at: dt.datetime | None = None,
    good_cause: str = "",
) -> ShareRequest:
    """Approve: the lead agency's supervisor shares the case with the requesting agency on the
    legal basis they choose — through `participation_grant` and all of its rules."""
    request = _share_request_lock(share_request, actor)
    participation_grant(
        case=request.case,
        actor=actor,
        agency=request.agency,
        legal_basis=legal_basis,
        expires_at=expires_at,
        good_cause=good_cause,
    )
    request.refresh_from_db()
    return request


@transaction.atomic
def share_request_decline(*, share_request: ShareRequest, actor: User, reason: str) -> ShareRequest:
    request = _share_request_lock(share_request, actor)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the request is declined.", fields={"reason": ["This field may not be blank."]})
    request.status = ShareRequest.Status.DECLINED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decline_reason = reason
    request._history_user = actor  # noqa: SLF001 - simple-history's (documented) history-author attribute
    request.save()
    _audit(
        actor,
        request,
        "share_request",
        request.case.youth_id,
        Action.ACCESS_CHANGE,
        case=request.case_id,
        agency=request.agency.code,
        declined=True,
    )
    return request
