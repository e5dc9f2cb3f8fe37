"""Clocks that follow the facts and the law (SPEC §2, §3), driven over HTTP as the people would:
a declined or duplicate referral settles its clocks, a missed deadline stays outstanding and is
met late, `status=outstanding`, superseded stages of a late sweep, the written report clock from
`information_received_at`, no law-enforcement report clock for a law-enforcement referral."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import Agency
from notifications.models import Deadline, Notification
from tests.notifications.support import T0, H

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_paths")]


@pytest.fixture(autouse=True)
def sheriff_is_law_enforcement(cast):  # type: ignore[no-untyped-def]
    Agency.objects.filter(code="SHERIFF").update(kind=Agency.Kind.LAW_ENFORCEMENT)
    cast.agencies["SHERIFF"].refresh_from_db()


def _iso(value) -> str:  # type: ignore[no-untyped-def]
    return value.isoformat()


def _log_referral(client, **fields):  # type: ignore[no-untyped-def]
    body = {
        "youth": {"first_name": "Testa", "last_name": "Clockwork", "date_of_birth": "2010-02-03"},
        "received_at": _iso(fields.pop("received_at", T0)),
        "source": fields.pop("source", "hotline"),
        "indicators": [],
        **{k: _iso(v) if hasattr(v, "isoformat") else v for k, v in fields.items()},
    }
    response = client.post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _deadlines(client, **query):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/deadlines/", query)
    assert response.status_code == 200, response.json()
    return {row["rule"]: row for row in response.json()["results"]}


def test_a_declined_sheriff_recovery_stops_its_services_clock_and_keeps_its_written_report_clock(
    cast, make_client, sweep, clock
):
    """Done when: a Sheriff recovery referral that DCFS declines stops escalating its services
    clock, and its written report clock stays."""
    deputy, supervisor = make_client(cast.sheriff_worker), make_client(cast.dcfs_supervisor)
    referral = _log_referral(
        deputy, source="law_enforcement_recovery", recovered_at=T0, hotline_reported_at=T0, responder_arrived_at=T0
    )
    clocks = _deadlines(deputy, referral=referral["id"])
    assert {rule: row["status"] for rule, row in clocks.items()} == {
        "written_report_36h": "open",
        "first_response_90m": "met",
        "frp_services_72h": "open",
    }

    # when DCFS declines it
    response = supervisor.post(f"/api/v1/referrals/{referral['id']}/decline/", {"reason": "Out of county"})
    assert response.status_code == 200

    # then the services clock is settled as not applicable, with the decision as the reason
    clocks = _deadlines(deputy, referral=referral["id"])
    services = clocks["frp_services_72h"]
    assert (services["status"], services["settle_reason"], services["outstanding"]) == (
        "not_applicable",
        "referral declined",
        False,
    )
    assert services["settled_at"] is not None and services["next_reminder_at"] is None
    assert "Out of county" not in str(clocks)  # the decline's free text is not copied
    # and the written report clock (the law's duty) stays open
    assert clocks["written_report_36h"]["status"] == "open"

    # and three days later nothing escalates the services clock; the written report does
    clock.move_to(T0 + 80 * H)
    sweep()
    services_id = services["id"]
    assert not Notification.objects.filter(deadline_id=services_id).exists()
    written = Notification.objects.filter(deadline_id=clocks["written_report_36h"]["id"])
    assert set(written.values_list("stage", flat=True)) == {"overdue"}


def test_a_duplicate_referral_is_superseded_where_the_original_has_the_clock(cast, make_client, clock):
    deputy, supervisor = make_client(cast.sheriff_worker), make_client(cast.dcfs_supervisor)
    original = _log_referral(deputy, source="law_enforcement_recovery", recovered_at=T0, hotline_reported_at=T0)
    duplicate = _log_referral(
        deputy, source="law_enforcement_recovery", recovered_at=T0 - H, information_received_at=T0 - H
    )

    response = supervisor.post(
        f"/api/v1/referrals/{duplicate['id']}/mark-duplicate/", {"duplicate_of": original["id"]}, format="json"
    )
    assert response.status_code == 200, response.json()

    clocks = _deadlines(deputy, referral=duplicate["id"])
    originals = _deadlines(deputy, referral=original["id"])
    for rule in ("written_report_36h", "first_response_90m", "frp_services_72h"):
        row = clocks[rule]
        assert row["status"] == "superseded", rule
        assert row["superseded_by"] == originals[rule]["id"]
        assert row["settle_reason"] == f"referral marked a duplicate of R-{original['id']}"
        assert originals[rule]["status"] == "open"


def test_a_duplicate_without_the_original_clock_keeps_the_reporting_duty(cast, make_client, clock):
    deputy, supervisor = make_client(cast.sheriff_worker), make_client(cast.dcfs_supervisor)
    original = _log_referral(deputy)  # no clocks of its own
    duplicate = _log_referral(deputy, source="law_enforcement_recovery", recovered_at=T0, hotline_reported_at=T0)

    supervisor.post(
        f"/api/v1/referrals/{duplicate['id']}/mark-duplicate/", {"duplicate_of": original["id"]}, format="json"
    )

    clocks = _deadlines(deputy, referral=duplicate["id"])
    assert clocks["written_report_36h"]["status"] == "open"
    assert clocks["frp_services_72h"]["status"] == "not_applicable"
    assert clocks["frp_services_72h"]["settle_reason"] == "referral marked a duplicate"


def test_the_written_report_clock_runs_from_when_the_information_was_received(cast, make_client, clock):
    worker = make_client(cast.dcfs_worker)
    # given the reporter learned of the abuse 10 hours before phoning the hotline
    referral = _log_referral(worker, information_received_at=T0 - 10 * H, hotline_reported_at=T0)
    assert referral["information_received_at"] is not None

    written = _deadlines(worker, referral=referral["id"])["written_report_36h"]
    assert written["due_at"] == _iso_pacific(T0 + 26 * H)

    # without it, from the telephone report
    other = _log_referral(worker, hotline_reported_at=T0)
    assert other["information_received_at"] is None
    assert _deadlines(worker, referral=other["id"])["written_report_36h"]["due_at"] == _iso_pacific(T0 + 36 * H)

    # correcting the information time moves the clock (the old one cancelled, a new one opened)
    etag = worker.get(f"/api/v1/referrals/{other['id']}/").headers["ETag"]
    response = worker.patch(
        f"/api/v1/referrals/{other['id']}/",
        {"information_received_at": _iso(T0 - 2 * H)},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.json()
    statuses = Deadline.objects.filter(referral_id=other["id"], rule__code="written_report_36h")
    assert sorted(statuses.values_list("status", flat=True)) == ["cancelled", "open"]
    assert _deadlines(worker, referral=other["id"], status="open")["written_report_36h"]["due_at"] == _iso_pacific(
        T0 + 34 * H
    )


def _iso_pacific(value) -> str:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("America/Los_Angeles")).isoformat()


def test_a_law_enforcement_referral_opens_no_law_enforcement_report_clock(cast, make_client, clock):
    deputy, supervisor = make_client(cast.sheriff_worker), make_client(cast.dcfs_supervisor)
    referral = _log_referral(deputy)
    # the report came from law enforcement: it was notified when the referral came in
    assert referral["law_enforcement_notified_at"] == _iso_pacific(T0)

    response = supervisor.post(
        f"/api/v1/referrals/{referral['id']}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"}
    )
    assert response.status_code in (200, 201), response.json()
    assert not Deadline.objects.filter(referral_id=referral["id"], rule__code="law_enforcement_report_24h").exists()

    # a referral from DCFS still opens it
    other = _log_referral(make_client(cast.dcfs_worker))
    assert other["law_enforcement_notified_at"] is None
    supervisor.post(f"/api/v1/referrals/{other['id']}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"})
    assert Deadline.objects.filter(referral_id=other["id"], rule__code="law_enforcement_report_24h").get().status == (
        "open"
    )


def test_an_overdue_deadline_is_outstanding_and_can_be_met_late(cast, make_client, sweep, clock):
    """Done when: a deadline overdue by four hours appears in status=outstanding."""
    worker = make_client(cast.dcfs_worker)
    late = _log_referral(worker, hotline_reported_at=T0)
    clock.move_to(T0 + 20 * H)
    worker = make_client(cast.dcfs_worker)  # a token idle for 30 minutes has expired
    soon = _log_referral(worker, hotline_reported_at=T0 + 20 * H, received_at=T0 + 20 * H)
    _log_referral(
        worker, hotline_reported_at=T0 + 20 * H, received_at=T0 + 20 * H, written_report_submitted_at=T0 + 20 * H
    )

    # when the first is overdue by four hours (the sweep marked it missed)
    clock.move_to(T0 + 40 * H)
    sweep()
    worker = make_client(cast.dcfs_worker)
    response = worker.get("/api/v1/deadlines/", {"status": "outstanding"})
    rows = response.json()["results"]

    # then it is listed, most urgent first, with the open one after it and nothing met
    assert [(r["referral"], r["status"]) for r in rows] == [(late["id"], "missed"), (soon["id"], "open")]
    assert all(r["outstanding"] for r in rows)
    # the old query still hides it, which is why `outstanding` exists
    hidden = worker.get("/api/v1/deadlines/", {"status": "open", "due_before": _iso(T0 + 40 * H)}).json()
    assert hidden["results"] == []

    # and a late written report meets it, late
    etag = worker.get(f"/api/v1/referrals/{late['id']}/").headers["ETag"]
    worker.patch(
        f"/api/v1/referrals/{late['id']}/",
        {"written_report_submitted_at": _iso(T0 + 39 * H)},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    met = _deadlines(worker, referral=late["id"])["written_report_36h"]
    assert (met["status"], met["met_late"], met["outstanding"]) == ("met", True, False)
    assert [r["referral"] for r in worker.get("/api/v1/deadlines/", {"status": "outstanding"}).json()["results"]] == [
        soon["id"]
    ]


def test_after_beat_stopped_for_a_day_one_overdue_escalation_per_person_and_the_stages_in_between(
    cast, make_client, sweep, clock
):
    """Done when: after beat was stopped for a day, the first sweep sends one overdue escalation
    per person and the deadline shows its superseded stages."""
    worker = make_client(cast.dcfs_worker)
    referral = _log_referral(worker, hotline_reported_at=T0)

    # when no sweep ran until a day after the due time
    sweep_at = T0 + 60 * H
    clock.move_to(sweep_at)
    sweep()

    # then each person got only the overdue reminder, once
    sent = Notification.objects.filter(referral_id=referral["id"])
    assert set(sent.values_list("stage", flat=True)) == {"overdue"}
    people = list(sent.values_list("recipient__username", flat=True))
    assert sorted(people) == sorted(set(people)) == ["dcfs_supervisor", "dcfs_supervisor2", "dcfs_worker"]
    assert len(mail.outbox) == 3

    # and the deadline shows the stages it passed over, with their times and the sweep's
    worker = make_client(cast.dcfs_worker)
    row = _deadlines(worker, referral=referral["id"])["written_report_36h"]
    assert row["superseded_stages"] == [
        {"stage": "upcoming", "at": (T0 + 24 * H).isoformat(), "recorded_at": sweep_at.isoformat()},
        {"stage": "due", "at": (T0 + 36 * H).isoformat(), "recorded_at": sweep_at.isoformat()},
    ]
    assert row["status"] == "missed"

    # and another sweep sends nothing more
    clock.move_to(sweep_at + 24 * H)
    assert sweep().notifications == 0


def test_waiving_is_refused_once_a_deadline_is_settled(cast, make_client, clock):
    deputy, supervisor = make_client(cast.sheriff_worker), make_client(cast.dcfs_supervisor)
    referral = _log_referral(deputy, source="law_enforcement_recovery", recovered_at=T0)
    supervisor.post(f"/api/v1/referrals/{referral['id']}/decline/", {"reason": "Not ours"})
    services = _deadlines(supervisor, referral=referral["id"])["frp_services_72h"]

    response = supervisor.post(f"/api/v1/deadlines/{services['id']}/waive/", {"reason": "No longer needed"})

    assert response.status_code == 409
