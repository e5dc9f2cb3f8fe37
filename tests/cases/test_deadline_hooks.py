"""The legal clocks are opened and met by the services that record the facts (SPEC §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.services import cases as case_services
from cases.services import missing_episodes as episode_services
from cases.services import referrals as referral_services
from cases.services import service_referrals as service_referral_services

from .factories import accept_referral, create_referral

pytestmark = pytest.mark.django_db


def summary(calls):  # type: ignore[no-untyped-def]
    return [(verb, rule) for verb, rule, _, _ in calls]


def test_hotline_report_opens_the_36h_clock_and_the_written_report_meets_it(people, clock_calls):
    # given
    hotline = timezone.now() - dt.timedelta(hours=2)
    referral = create_referral(people.dcfs_case_worker, source="hotline", hotline_reported_at=hotline)
    opened = clock_calls[0]
    assert summary(clock_calls) == [("open", "written_report_36h")]
    assert opened[2] == referral and opened[3]["starts_at"] == hotline
    # when
    written = timezone.now()
    referral_services.referral_update(
        referral=referral, actor=people.dcfs_case_worker, data={"written_report_submitted_at": written}
    )
    # then
    assert summary(clock_calls)[-1] == ("meet", "written_report_36h")
    assert clock_calls[-1][3]["met_at"] == written


def test_a_timestamp_that_already_meets_its_clock_opens_then_meets(people, clock_calls):
    now = timezone.now()
    create_referral(
        people.sheriff_case_worker,
        source="law_enforcement_recovery",
        recovered_at=now - dt.timedelta(minutes=50),
        responder_arrived_at=now - dt.timedelta(minutes=10),
    )
    assert summary(clock_calls) == [
        ("open", "first_response_90m"),
        ("open", "frp_services_72h"),
        ("meet", "first_response_90m"),
    ]


def test_clear_concern_opens_the_law_enforcement_report_clock(people, clock_calls):
    referral = create_referral(people.sheriff_case_worker)
    screening = referral_services.referral_screen(
        referral=referral, actor=people.dcfs_supervisor, level="clear_concern", instrument="CSE-IT"
    )
    assert summary(clock_calls) == [("open", "law_enforcement_report_24h")]
    # the 24 hours run from the screening that found the clear concern
    assert clock_calls[0][2] == referral
    assert clock_calls[0][3]["starts_at"] == screening.screened_at
    referral_services.referral_update(
        referral=referral, actor=people.sheriff_case_worker, data={"law_enforcement_notified_at": timezone.now()}
    )
    assert summary(clock_calls)[-1] == ("meet", "law_enforcement_report_24h")
    # screening again below clear concern closes it
    referral_services.referral_screen(
        referral=referral, actor=people.dcfs_supervisor, level="possible_concern", instrument="CSE-IT"
    )
    assert summary(clock_calls)[-1] == ("cancel", "law_enforcement_report_24h")


def test_a_service_or_health_exam_meets_the_72h_services_clock(people, clock_calls):
    recovered = timezone.now() - dt.timedelta(hours=5)
    referral = create_referral(people.sheriff_case_worker, source="law_enforcement_recovery", recovered_at=recovered)
    case = accept_referral(referral, people.dcfs_supervisor, level="possible_concern")
    clock_calls.clear()
    service_referral_services.service_referral_create(
        case=case, actor=people.dcfs_supervisor, provider="Clinic", referred_at=timezone.now(), is_health_exam=True
    )
    assert [(v, r, t) for v, r, t, _ in clock_calls] == [("meet", "frp_services_72h", referral)]


def test_missing_episode_clocks(people, clock_calls):
    case = accept_referral(
        create_referral(people.sheriff_case_worker), people.dcfs_supervisor, level="possible_concern"
    )
    clock_calls.clear()
    learned = timezone.now() - dt.timedelta(hours=4)  # fact times are never in the future (SPEC §2)
    episode = episode_services.missing_episode_create(
        case=case, actor=people.dcfs_supervisor, missing_since=learned - dt.timedelta(hours=3), learned_at=learned
    )
    assert summary(clock_calls) == [
        ("open", "missing_law_enforcement_24h"),
        ("open", "missing_ncmec_24h"),
        ("open", "missing_attorney_24h"),
    ]
    assert all(c[2] == episode and c[3]["starts_at"] == learned for c in clock_calls)
    clock_calls.clear()
    later = learned + dt.timedelta(hours=2)
    episode_services.missing_episode_update(
        episode=episode,
        actor=people.dcfs_supervisor,
        data={
            "reported_to_law_enforcement_at": later,
            "reported_to_ncmec_at": later,
            "attorney_notified_at": later,
            "returned_at": later,
        },
    )
    assert summary(clock_calls) == [
        ("open", "return_debrief_72h"),
        ("meet", "missing_law_enforcement_24h"),
        ("meet", "missing_ncmec_24h"),
        ("meet", "missing_attorney_24h"),
    ]
    clock_calls.clear()
    # SPEC §2 (WIC 16501.35): the debrief's time alone does not meet its clock...
    episode_services.missing_episode_update(
        episode=episode, actor=people.dcfs_supervisor, data={"return_debrief_at": later + dt.timedelta(hours=1)}
    )
    assert summary(clock_calls) == []
    # ...the whole debrief does.
    episode_services.missing_episode_update(
        episode=episode,
        actor=people.dcfs_supervisor,
        data={
            "absence_factors": "factors",
            "experiences_while_absent": "experiences",
            "exploited_while_absent": "unknown",
            "return_screening": {"level": "possible_concern", "instrument": "CSE-IT", "screened_at": later},
        },
    )
    assert summary(clock_calls) == [("meet", "return_debrief_72h")]


def test_mdt_sharing_opens_the_renewal_clock_and_renewal_meets_and_reopens(people, clock_calls):
    case = accept_referral(create_referral(people.dcfs_case_worker), people.dcfs_supervisor, level="possible_concern")
    clock_calls.clear()
    participation = case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.probation_supervisor.agency, legal_basis="mdt_18961_7"
    )
    assert summary(clock_calls) == [("open", "sharing_renewal_30d")]
    assert clock_calls[0][2] == participation
    assert clock_calls[0][3]["due_at"] == participation.expires_at
    # WIC 18961.7: 30 days after the report (the referral's received_at), not after the grant
    assert participation.expires_at == case.referrals.get().received_at + dt.timedelta(days=30)
    clock_calls.clear()
    case_services.case_agency_renew(
        participation=participation, actor=people.dcfs_supervisor, good_cause="Ongoing joint safety planning"
    )
    assert summary(clock_calls) == [("meet", "sharing_renewal_30d"), ("open", "sharing_renewal_30d")]


def test_accept_shares_nothing_with_the_referring_agency_and_opens_no_sharing_clock(people, clock_calls):
    # SPEC §1 "Sharing has one door" (this test pinned the old accept, which granted the
    # referring agency WIC 18961.7 sharing and opened its renewal clock)
    referral = create_referral(people.sheriff_case_worker)
    case = accept_referral(referral, people.dcfs_supervisor, level="possible_concern")
    assert ("open", "sharing_renewal_30d") not in summary(clock_calls)
    assert list(case.participations.values_list("agency__code", "legal_basis")) == [("DCFS", "lead")]
