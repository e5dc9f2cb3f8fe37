"""Fact times cannot game the legal clocks (SPEC §2 "Fact times", §3).

A fact that meets a clock (a written report, a responder's arrival, a report to law
enforcement) is when it happened, as the user states it. Stating it cannot move a clock: not in
the future, not before the event that started the clock — and a fact recorded late with a time
before the due time is "met, recorded late", both times kept, the escalation already sent kept.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cases.services import missing_episodes as episode_services
from cases.services import service_referrals as service_referral_services
from core.errors import ApplicationError
from notifications.models import Deadline, Notification
from notifications.services.sweep import deadlines_sweep
from tests.cases.factories import accept_referral, create_referral, open_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

#: Monday 6 April 2026, 10:00 in Los Angeles (PDT).
T0 = dt.datetime(2026, 4, 6, 17, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.fixture
def dcfs(agencies, reference_data):  # type: ignore[no-untyped-def]
    """A DCFS case worker and the supervisor who gets the agency's escalations."""
    worker = UserFactory(username="facts_worker", agency=agencies["DCFS"], role="case_worker")
    supervisor = UserFactory(username="facts_supervisor", agency=agencies["DCFS"], role="supervisor")
    return worker, supervisor


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _deadline_row(client, rule: str, referral_id: int) -> dict:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/deadlines/", {"rule": rule, "referral": referral_id})
    assert response.status_code == 200, response.content
    rows = [row for row in response.json()["results"] if row["rule"] == rule]
    assert len(rows) == 1, rows
    return rows[0]


def test_a_backdated_written_report_shows_met_recorded_late(dcfs, make_client):  # type: ignore[no-untyped-def]
    worker, supervisor = dcfs
    with time_machine.travel(T0, tick=False) as clock:
        # given a hotline report at T0: the written report (SS 8572) is due at T0 + 36 h
        referral = create_referral(worker, source="hotline", received_at=T0, hotline_reported_at=T0)
        # … nobody records it in time: the clock is missed and the supervisor is escalated to
        clock.move_to(T0 + 36 * H)
        deadlines_sweep(redeliver=False)
        clock.move_to(T0 + 38 * H)
        deadlines_sweep(redeliver=False)
        deadline = Deadline.objects.get(rule__code="written_report_36h", referral=referral)
        escalations = Notification.objects.filter(deadline=deadline, stage="overdue", recipient=supervisor)
        assert deadline.status == Deadline.Status.MISSED and escalations.count() == 1

        # when the worker records, at T0 + 40 h, that the report was in fact submitted at T0 + 30 h
        clock.move_to(T0 + 40 * H)
        response = make_client(worker).patch(
            f"/api/v1/referrals/{referral.pk}/", {"written_report_submitted_at": _iso(T0 + 30 * H)}, format="json"
        )

        # then the clock is met — at the fact time — and it shows it was recorded late
        assert response.status_code == 200, response.content
        row = _deadline_row(make_client(worker), "written_report_36h", referral.pk)
        assert row["status"] == "met"
        assert dt.datetime.fromisoformat(row["met_at"]) == T0 + 30 * H
        assert dt.datetime.fromisoformat(row["recorded_at"]) == T0 + 40 * H
        assert dt.datetime.fromisoformat(row["due_at"]) == T0 + 36 * H
        assert row["recorded_late"] is True
        # … and the escalation already sent stands: nothing is un-sent
        assert escalations.count() == 1


def test_a_future_fact_time_is_refused(dcfs, make_client):  # type: ignore[no-untyped-def]
    worker, _ = dcfs
    now = timezone.now()
    referral = create_referral(
        worker, source="law_enforcement_recovery", hotline_reported_at=now - H, recovered_at=now - H
    )
    client = make_client(worker)

    # when the worker states facts that have not happened yet
    response = client.patch(
        f"/api/v1/referrals/{referral.pk}/",
        {"written_report_submitted_at": _iso(now + 2 * H), "responder_arrived_at": _iso(now + 10 * H)},
        format="json",
    )

    # then both are refused, saying what to send, and no clock is met
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert set(errors) >= {"written_report_submitted_at", "responder_arrived_at"}
    assert all("future" in message for field in errors.values() for message in field)
    assert not Deadline.objects.filter(referral=referral, status=Deadline.Status.MET).exists()
    # a clock a few minutes fast (within 5 minutes) is not a lie: it is accepted
    ok = client.patch(
        f"/api/v1/referrals/{referral.pk}/",
        {"written_report_submitted_at": _iso(timezone.now() + dt.timedelta(minutes=4))},
        format="json",
    )
    assert ok.status_code == 200, ok.content


def test_a_fact_before_its_clock_started_is_refused(dcfs, make_client):  # type: ignore[no-untyped-def]
    worker, supervisor = dcfs
    now = timezone.now()
    case = open_case(worker, supervisor)
    episode = episode_services.missing_episode_create(
        case=case, actor=supervisor, missing_since=now - 5 * H, learned_at=now - 2 * H
    )
    client = make_client(supervisor)

    # when the episode's reports are dated before anyone learned the youth was missing
    response = client.patch(
        f"/api/v1/missing-episodes/{episode.pk}/",
        {
            "reported_to_law_enforcement_at": _iso(now - 3 * H),
            "reported_to_ncmec_at": _iso(now - 4 * H),
            "attorney_notified_at": _iso(now - 3 * H),
        },
        format="json",
    )

    # then they are refused, each saying what to send, and the 24-hour clocks stay open
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert set(errors) == {"reported_to_law_enforcement_at", "reported_to_ncmec_at", "attorney_notified_at"}
    assert all("learned_at" in message for field in errors.values() for message in field)
    assert set(
        Deadline.objects.filter(object_id=episode.pk, rule__target="missing_episode").values_list("status", flat=True)
    ) == {"open"}

    # and a referral's written report dated before the telephone report is refused the same way
    referral = create_referral(worker, source="hotline", hotline_reported_at=now - H)
    response = make_client(worker).patch(
        f"/api/v1/referrals/{referral.pk}/", {"written_report_submitted_at": _iso(now - 2 * H)}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "hotline_reported_at" in response.json()["errors"]["written_report_submitted_at"][0]


def test_a_service_dated_in_the_future_does_not_meet_the_services_clock(agencies, reference_data):  # type: ignore[no-untyped-def]
    # given a recovery referral accepted into a case, its 72-hour services clock open
    deputy = UserFactory(role="case_worker", agency=agencies["SHERIFF"])
    supervisor = UserFactory(role="supervisor", agency=agencies["DCFS"])
    now = timezone.now()
    referral = create_referral(deputy, source="law_enforcement_recovery", recovered_at=now - dt.timedelta(hours=1))
    case = accept_referral(referral, supervisor)

    # when a service is recorded a day ahead
    with pytest.raises(ApplicationError) as refused:
        service_referral_services.service_referral_create(
            case=case, actor=supervisor, provider="Example Services", referred_at=now + dt.timedelta(days=1)
        )

    # then it is refused and the clock stays open
    assert refused.value.fields == {"referred_at": ["Must not be in the future."]}
    assert Deadline.objects.get(rule__code="frp_services_72h").status == Deadline.Status.OPEN
