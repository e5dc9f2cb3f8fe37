"""Builders for the MDT tests. Case data (youth, cases, alerts, notes, placements, hearings) is
made through the cases services, as the API makes it (a referral screened and accepted by the
lead agency's supervisor, its parts recorded by the referring worker on the case team), so the
history, audit, search keys and deadlines the MDT app reads of it are what the product makes.
These tests are about what the MDT app shows of that data.

The names and keywords are the ones the tests have always called (`CaseFactory(court="STAR")`,
`SafetyAlertFactory(case=case)`, …); each is a function now, not a factory_boy model factory.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from accounts.models import Agency, User
from cases.models import Case, CourtHearing, Note, Placement, Referral, SafetyAlert, Youth
from cases.services import cases as case_services
from cases.services import court_hearings as hearing_services
from cases.services import notes as note_services
from cases.services import placements as placement_services
from cases.services import referrals as referral_services
from cases.services import safety_alerts as alert_services
from cases.services import youth as youth_services
from core.permissions import Role
from tests.factories import AgencyFactory, UserFactory

# Distinctive identifying strings: the privacy tests search every MDT output for them.
YOUTH_FIRST_NAME = "Marisolveig"
YOUTH_LAST_NAME = "Quetzalcoatlan"
YOUTH_ALIAS = "Sugarplumfairy"
YOUTH_DOB = dt.date(2010, 5, 17)
NOTE_BODY = "Notebody-confidential-xyzzy"
PLACEMENT_ADDRESS = "1428 Elmstreetwood Lane"
PROTECTED_DETAIL = "Exploiter-Zebediah-Thornquist"

_youth_numbers = itertools.count()
_UNSET: Any = object()


def staff(agency: Agency, role: str = Role.CASE_WORKER) -> User:
    """The agency's worker (who refers and records case parts) or supervisor (who screens,
    accepts, sets the court and closes): one each per agency, in no MDT role of the tests."""
    return UserFactory(username=f"mdtfx_{agency.code.lower()}_{role}", agency=agency, role=role)


def _worker_on(case: Case) -> User:
    """The lead agency's referring worker: accepting the referral put them on the case team."""
    return staff(case.lead_agency)


def YouthFactory(  # noqa: N802 - the name the tests call
    *,
    holding_agency: Agency | None = None,
    first_name: str = YOUTH_FIRST_NAME,
    last_name: str | None = None,
    date_of_birth: dt.date | None = _UNSET,
    aliases: list[str] | None = None,
    **fields: Any,
) -> Youth:
    """A youth record held by `holding_agency` (DCFS), created by its worker."""
    agency = holding_agency or AgencyFactory(code="DCFS")
    return youth_services.youth_create(
        actor=staff(agency),
        first_name=first_name,
        last_name=last_name if last_name is not None else f"{YOUTH_LAST_NAME}{next(_youth_numbers)}",
        date_of_birth=YOUTH_DOB if date_of_birth is _UNSET else date_of_birth,
        aliases=[YOUTH_ALIAS] if aliases is None else aliases,
        **fields,
    )


def CaseFactory(  # noqa: N802 - the name the tests call
    *,
    youth: Youth | None = None,
    lead_agency: Agency | None = None,
    court: str = Case.Court.STAR,
    csec_status: str = Case.CsecStatus.IDENTIFIED,
    status: str = Case.Status.OPEN,
) -> Case:
    """An open case led by `lead_agency` (Probation) on `court`: the lead's worker refers the
    youth, its supervisor screens and accepts the referral and sets the court and CSEC status;
    `status="closed"` closes it with a reason. The case number is the one the service allocates
    (H-YYYY-NNNNNN): tests read `case.number` rather than choose one."""
    lead = lead_agency or AgencyFactory(code="PROBATION")
    worker, supervisor = staff(lead), staff(lead, Role.SUPERVISOR)
    referral = referral_services.referral_create(
        actor=worker,
        youth=youth,
        youth_data=None if youth is not None else _youth_data(),
        receiving_agency=lead,
        received_at=timezone.now(),
        source=Referral.Source.SCHOOL,
        narrative="Synthetic narrative for tests.",
    )
    # "possible concern" opens no law-enforcement clock: the agenda views start without deadlines.
    referral_services.referral_screen(
        referral=referral, actor=supervisor, level="possible_concern", instrument="CSE-IT"
    )
    case = referral_services.referral_accept(referral=referral, actor=supervisor).case
    assert case is not None
    changes: dict[str, Any] = {}
    if court:
        changes["court"] = court
    if csec_status != case.csec_status:
        changes["csec_status"] = csec_status
    if changes:
        case = case_services.case_update(case=case, actor=supervisor, data=changes)
    if status == Case.Status.CLOSED:
        case = case_services.case_close(case=case, actor=supervisor, reason="Synthetic reason")
    elif status != Case.Status.OPEN:
        raise ValueError(f"CaseFactory makes open or closed cases, not {status!r}")
    case.refresh_from_db()
    return case


def SafetyAlertFactory(  # noqa: N802 - the name the tests call
    *,
    case: Case | None = None,
    kind: str = SafetyAlert.Kind.KNOWN_EXPLOITER,
    summary: str = "Known exploiter: do not disclose placement or contact details",
    protected_detail: str = PROTECTED_DETAIL,
    is_active: bool = True,
) -> SafetyAlert:
    """An alert raised by the lead agency's worker on the case team (who may record the protected
    detail); `is_active=False` resolves it, with a reason, as the lead does."""
    case = case or CaseFactory()
    worker = _worker_on(case)
    alert = alert_services.safety_alert_create(
        case=case, actor=worker, kind=kind, summary=summary, protected_detail=protected_detail
    )
    if not is_active:
        alert = alert_services.safety_alert_resolve(alert=alert, actor=worker, reason="Synthetic reason")
    return alert


def NoteFactory(  # noqa: N802 - the name the tests call
    *, case: Case | None = None, visibility: str = Note.Visibility.TEAM, body: str = NOTE_BODY
) -> Note:
    """A note by the lead agency's worker on the case team."""
    case = case or CaseFactory()
    return note_services.case_note_add(case=case, actor=_worker_on(case), body=body, visibility=visibility)


def PlacementFactory(  # noqa: N802 - the name the tests call
    *,
    case: Case | None = None,
    placement_type: str = Placement.PlacementType.GROUP_HOME,
    csec_specialized: bool = True,
    address: str = PLACEMENT_ADDRESS,
    start_date: dt.date = dt.date(2026, 1, 5),
) -> Placement:
    """A current placement with its (protected) address, recorded by the lead's worker."""
    case = case or CaseFactory()
    return placement_services.placement_create(
        case=case,
        actor=_worker_on(case),
        placement_type=placement_type,
        start_date=start_date,
        csec_specialized=csec_specialized,
        address=address,
    )


def CourtHearingFactory(  # noqa: N802 - the name the tests call
    *,
    case: Case | None = None,
    starts_at: dt.datetime = dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC),
    hearing_type: str = "review",
) -> CourtHearing:
    """A hearing in the case's court, recorded by the lead's worker."""
    case = case or CaseFactory()
    return hearing_services.court_hearing_create(
        case=case, actor=_worker_on(case), starts_at=starts_at, hearing_type=hearing_type
    )


def agency(code: str, kind: str = Agency.Kind.OTHER) -> Agency:
    return AgencyFactory(code=code, kind=kind)


def _youth_data() -> dict[str, Any]:
    return {
        "first_name": YOUTH_FIRST_NAME,
        "last_name": f"{YOUTH_LAST_NAME}{next(_youth_numbers)}",
        "date_of_birth": YOUTH_DOB,
        "aliases": [YOUTH_ALIAS],
    }
