"""Synthetic demo youth, referrals and cases across the four agencies (local use only).

Every person here is invented. Each scenario is keyed by a DEMO external id, so running the
seed twice neither fails nor doubles anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Agency, User

from .crypto import blind_index
from .models import Case, YouthExternalId
from .services import cases as case_services
from .services import court_hearings as hearing_services
from .services import missing_episodes as episode_services
from .services import notes as note_services
from .services import placements as placement_services
from .services import referrals as referral_services
from .services import safety_alerts as alert_services
from .services import service_referrals as service_referral_services

DEMO_AGENCY = "DCFS"


def _agency_of(user: User) -> Agency:
    """A demo case-role user's agency (case roles always have one)."""
    assert user.agency is not None
    return user.agency


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _demo_marker_exists(marker: str) -> bool:
    agency = Agency.objects.get(code=DEMO_AGENCY)
    return YouthExternalId.objects.filter(agency=agency, value_bidx=blind_index(marker)).exists()


def _marker(marker: str) -> list[dict[str, Any]]:
    return [{"agency": Agency.objects.get(code=DEMO_AGENCY), "kind": "demo", "value": marker}]


def _dream_case(now: dt.datetime) -> str:
    """Sheriff recovery → DCFS lead, DREAM court, DMH clinician and Probation participating,
    placement with address, alert, notes (team + clinical), services, a returned missing episode."""
    deputy, dcfs_sup, dcfs_sw = _user("sheriff_case_worker"), _user("dcfs_supervisor"), _user("dcfs_case_worker")
    dmh_clin, prob_po = _user("dmh_case_worker"), _user("probation_case_worker")
    referral = referral_services.referral_create(
        actor=deputy,
        youth_data={
            "first_name": "Destiny",
            "last_name": "Alvarez",
            "date_of_birth": dt.date(2010, 6, 2),
            "gender_identity": "girl",
            "pronouns": "she/her",
            "preferred_language": "Spanish",
            "aliases": ["Dee", "Candy"],
            "external_ids": _marker("DEMO-1"),
        },
        receiving_agency=dcfs_sup.agency,
        received_at=now - dt.timedelta(days=3),
        source="law_enforcement_recovery",
        recovered_at=now - dt.timedelta(days=3, hours=1),
        responder_arrived_at=now - dt.timedelta(days=3, minutes=20),
        law_enforcement_notified_at=now - dt.timedelta(days=3),
        indicators=["runaway_or_homeless", "controlling_older_partner", "tattoos_or_branding"],
        narrative="Synthetic: recovered during a county operation; older 'boyfriend' mentioned.",
    )
    referral_services.referral_screen(
        referral=referral, actor=dcfs_sup, level="clear_concern", instrument="CSE-IT", instrument_version="2.0"
    )
    case = referral_services.referral_accept(referral=referral, actor=dcfs_sup).case
    assert case is not None  # accepting opens (or links) a case
    case_services.case_update(
        case=case, actor=dcfs_sup, data={"court": Case.Court.DREAM, "csec_status": Case.CsecStatus.IDENTIFIED}
    )
    case_services.case_team_member_add(case=case, actor=dcfs_sup, user=dcfs_sw, case_role="social_worker")
    case_services.case_agency_grant(case=case, actor=dcfs_sup, agency=_agency_of(dmh_clin), legal_basis="court_mdt")
    case_services.case_team_member_add(case=case, actor=dcfs_sup, user=dmh_clin, case_role="clinician")
    case_services.case_agency_grant(case=case, actor=dcfs_sup, agency=_agency_of(prob_po), legal_basis="mdt_18961_7")
    case_services.case_team_member_add(case=case, actor=dcfs_sup, user=prob_po, case_role="probation_officer")
    hearing_services.court_hearing_create(
        case=case,
        actor=dcfs_sw,
        starts_at=now + dt.timedelta(days=5, hours=2),
        hearing_type="DREAM review",
        court="DREAM",
    )
    placement_services.placement_create(
        case=case,
        actor=dcfs_sw,
        placement_type="foster_home",
        csec_specialized=True,
        address="100 Example Way, Los Angeles (synthetic)",
        start_date=(now - dt.timedelta(days=2)).date(),
    )
    alert_services.safety_alert_create(
        case=case,
        actor=dcfs_sw,
        kind="known_exploiter",
        summary="Known exploiter: do not disclose placement or contact details",
        protected_detail="Synthetic: adult male known as 'J', 20s.",
    )
    service_referral_services.service_referral_create(
        case=case,
        actor=dcfs_sw,
        provider="Synthetic Youth Clinic",
        kind="health_exam",
        service_type="health_exam",
        is_health_exam=True,
        referred_at=now - dt.timedelta(days=2, hours=20),
    )
    service_referral_services.service_referral_create(
        case=case,
        actor=dmh_clin,
        provider="Synthetic Counseling Center",
        kind="mental_health",
        service_type="therapy",
        evidence_based_practice="TF-CBT",
        referred_at=now - dt.timedelta(days=2),
    )
    note_services.case_note_add(
        case=case, actor=dcfs_sw, body="Synthetic: met youth at placement; settling in.", visibility="team"
    )
    note_services.case_note_add(
        case=case, actor=dmh_clin, body="Synthetic clinical note: trauma screening begun.", visibility="clinical"
    )
    note_services.case_note_add(
        case=case, actor=dcfs_sw, body="Synthetic: DCFS-internal follow-up.", visibility="agency"
    )
    episode_services.missing_episode_create(
        case=case,
        actor=dcfs_sw,
        missing_since=now - dt.timedelta(days=1, hours=10),
        learned_at=now - dt.timedelta(days=1, hours=8),
        reported_to_law_enforcement_at=now - dt.timedelta(days=1, hours=7),
        ncic_number="DEMO-NCIC-1",
        reported_to_ncmec_at=now - dt.timedelta(days=1, hours=6),
        attorney_notified_at=now - dt.timedelta(days=1, hours=5),
        returned_at=now - dt.timedelta(hours=20),
    )
    return case.number


def _star_case(now: dt.datetime) -> str:
    """Probation referral → Probation lead, STAR court, DMH participating, a missing episode
    still open (clocks running)."""
    po, prob_sup, dmh_sup = _user("probation_case_worker"), _user("probation_supervisor"), _user("dmh_supervisor")
    referral = referral_services.referral_create(
        actor=po,
        youth_data={
            "first_name": "Marisol",
            "last_name": "Nguyen",
            "date_of_birth": dt.date(2009, 11, 21),
            "gender_identity": "girl",
            "aliases": ["Mari"],
            "external_ids": _marker("DEMO-2"),
        },
        receiving_agency=prob_sup.agency,
        received_at=now - dt.timedelta(days=10),
        source="probation",
        indicators=["justice_or_truancy_history", "unexplained_money_or_gifts", "online_solicitation"],
        narrative="Synthetic: on probation for truancy; new phone and gifts noticed.",
    )
    referral_services.referral_screen(
        referral=referral, actor=prob_sup, level="clear_concern", instrument="CSE-IT", instrument_version="2.0"
    )
    case = referral_services.referral_accept(referral=referral, actor=prob_sup).case
    assert case is not None  # accepting opens (or links) a case
    case_services.case_update(
        case=case, actor=prob_sup, data={"court": Case.Court.STAR, "csec_status": Case.CsecStatus.IDENTIFIED}
    )
    case_services.case_agency_grant(case=case, actor=prob_sup, agency=_agency_of(dmh_sup), legal_basis="court_mdt")
    hearing_services.court_hearing_create(
        case=case, actor=po, starts_at=now + dt.timedelta(days=9), hearing_type="STAR progress review", court="STAR"
    )
    note_services.case_note_add(
        case=case, actor=po, body="Synthetic: youth attended STAR orientation.", visibility="team"
    )
    episode_services.missing_episode_create(
        case=case,
        actor=po,
        missing_since=now - dt.timedelta(hours=9),
        learned_at=now - dt.timedelta(hours=6),
    )
    return case.number


def _hotline_referral(now: dt.datetime) -> str:
    """A hotline referral 25 hours old with no written report yet (the 36-hour clock is running)."""
    worker = _user("dcfs_case_worker")
    referral = referral_services.referral_create(
        actor=worker,
        youth_data={
            "first_name": "Aaliyah",
            "last_name": "Brooks",
            "date_of_birth": dt.date(2011, 2, 9),
            "aliases": ["Lee"],
            "external_ids": _marker("DEMO-3"),
        },
        received_at=now - dt.timedelta(hours=25),
        source="hotline",
        hotline_reported_at=now - dt.timedelta(hours=25),
        indicators=["runaway_or_homeless", "signs_of_violence"],
        narrative="Synthetic: school counselor called the hotline.",
    )
    return f"referral {referral.pk}"


def _sheriff_held_youth(now: dt.datetime) -> str:
    """A Sheriff referral to DCFS awaiting screening: a hidden possible duplicate for others."""
    deputy = _user("sheriff_case_worker")
    referral = referral_services.referral_create(
        actor=deputy,
        youth_data={
            "first_name": "Jasmine",
            "last_name": "Carter",
            "date_of_birth": dt.date(2010, 3, 14),
            "aliases": ["Jazzy"],
            "external_ids": _marker("DEMO-4"),
        },
        received_at=now - dt.timedelta(hours=4),
        source="law_enforcement_recovery",
        recovered_at=now - dt.timedelta(hours=5),
        indicators=["online_solicitation"],
        narrative="Synthetic: contacted through an online ad sting.",
    )
    return f"referral {referral.pk}"


def _declined_referral(now: dt.datetime) -> str:
    worker, sup = _user("dmh_case_worker"), _user("dcfs_supervisor")
    referral = referral_services.referral_create(
        actor=worker,
        youth_data={
            "first_name": "Tyler",
            "last_name": "Reed",
            "date_of_birth": dt.date(2008, 8, 30),
            "external_ids": _marker("DEMO-5"),
        },
        received_at=now - dt.timedelta(days=6),
        source="medical",
        indicators=[],
        narrative="Synthetic: clinic concern, no CSEC indicators after review.",
    )
    referral_services.referral_screen(referral=referral, actor=sup, level="no_concern", instrument="CSE-IT")
    referral_services.referral_decline(
        referral=referral, actor=sup, reason="Synthetic: no CSEC indicators; referred to community services."
    )
    return f"referral {referral.pk}"


SCENARIOS: list[tuple[str, Callable[[dt.datetime], str]]] = [
    ("DEMO-1", _dream_case),
    ("DEMO-2", _star_case),
    ("DEMO-3", _hotline_referral),
    ("DEMO-4", _sheriff_held_youth),
    ("DEMO-5", _declined_referral),
]


def seed_demo() -> str:
    """Idempotent: each scenario runs once (keyed by its DEMO external id)."""
    needed = [
        "sheriff_case_worker",
        "dcfs_supervisor",
        "dcfs_case_worker",
        "dmh_case_worker",
        "dmh_supervisor",
        "probation_case_worker",
        "probation_supervisor",
    ]
    if (
        User.objects.filter(username__in=needed).count() < len(needed)
        or not Agency.objects.filter(code=DEMO_AGENCY).exists()
    ):
        return "skipped (demo users missing)"
    now = timezone.now()
    made = []
    for marker, scenario in SCENARIOS:
        if _demo_marker_exists(marker):
            continue
        with transaction.atomic():
            made.append(scenario(now))
    return f"{len(made)} demo scenarios created" + (f" ({', '.join(made)})" if made else "")
