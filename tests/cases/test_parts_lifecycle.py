"""Case parts that end and change (SPEC §2, §6 "case parts"), over HTTP as the workers do it:
a placement ends with a date and a reason and a new one ends the current one; a service moves
through its statuses with dates; a hearing is rescheduled, cancelled or held with its outcome;
a safety alert is resolved and stays in the history. Each change uses If-Match and keeps
history; the wrong agency cannot do it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.services import cases as case_services

from .factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(people):  # type: ignore[no-untyped-def]
    """DCFS leads, its worker on the team; Sheriff participates with its worker on the team."""
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.sheriff_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.sheriff_case_worker, case_role="referring_worker"
    )
    return case


def _history(client, case, object_type):  # type: ignore[no-untyped-def]
    rows = client.get(f"/api/v1/cases/{case.pk}/history/?page_size=200").json()["results"]
    return [r for r in rows if r["object_type"] == object_type]


# --- placements ------------------------------------------------------------------------------------


def _placement(client, case, start, **extra):  # type: ignore[no-untyped-def]
    body = {"placement_type": "foster_home", "start_date": start, **extra}
    response = client.post(f"/api/v1/cases/{case.pk}/placements/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_placement_is_ended_and_a_new_one_started(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    # given
    first = _placement(client, case, "2026-10-01", address="1 Synthetic Way")
    detail = client.get(f"/api/v1/placements/{first['id']}/")
    assert detail.status_code == 200 and detail.json()["end_date"] is None
    # when: it ends
    ended = client.patch(
        f"/api/v1/placements/{first['id']}/",
        {"end_date": "2026-11-01", "end_reason": "placement disrupted"},
        format="json",
        HTTP_IF_MATCH=detail["ETag"],
    )
    # then
    assert ended.status_code == 200, ended.json()
    assert ended.json()["end_date"] == "2026-11-01" and ended.json()["end_reason"] == "placement disrupted"
    # and the stale ETag changes nothing
    stale = client.patch(
        f"/api/v1/placements/{first['id']}/", {"end_date": "2026-11-02"}, format="json", HTTP_IF_MATCH=detail["ETag"]
    )
    assert stale.status_code == 412
    # when: a new placement starts
    second = _placement(client, case, "2026-11-02", placement_type="relative")
    listed = client.get(f"/api/v1/cases/{case.pk}/placements/").json()["results"]
    assert [p["id"] for p in listed] == [second["id"], first["id"]]
    assert listed[0]["end_date"] is None and listed[1]["end_date"] == "2026-11-01"
    # and the history keeps the end, with who and when
    changes = [h for h in _history(client, case, "placement") if h["change"] == "changed"]
    assert changes and changes[0]["fields"]["end_date"] == "2026-11-01"
    assert changes[0]["actor"] == people.dcfs_case_worker.pk


def test_a_new_placement_ends_the_current_one(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    # given
    current = _placement(client, case, "2026-10-01")
    # when
    new = _placement(client, case, "2026-11-15", placement_type="group_home", csec_specialized=True)
    # then
    old = client.get(f"/api/v1/placements/{current['id']}/").json()
    assert old["end_date"] == "2026-11-15" and old["end_reason"] == "new placement"
    assert client.get(f"/api/v1/placements/{new['id']}/").json()["end_date"] is None
    # a current placement cannot start before the current one began
    early = client.post(
        f"/api/v1/cases/{case.pk}/placements/", {"placement_type": "shelter", "start_date": "2026-11-01"}, format="json"
    )
    assert early.status_code == 400 and "start_date" in early.json()["errors"]


def test_ending_a_placement_needs_a_reason_and_a_date_after_its_start(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    placement = _placement(client, case, "2026-10-01")
    path = f"/api/v1/placements/{placement['id']}/"
    assert client.patch(path, {"end_date": "2026-11-01"}, format="json").status_code == 400
    before = client.patch(path, {"end_date": "2026-09-01", "end_reason": "x"}, format="json")
    assert before.status_code == 400 and "end_date" in before.json()["errors"]
    assert client.patch(path, {"end_date": "2026-11-01", "end_reason": "reunified"}, format="json").status_code == 200
    # an ended placement is not reopened
    assert client.patch(path, {"end_date": None}, format="json").status_code == 400


def test_the_placement_address_stays_with_the_lead_case_team(people, as_user, case):
    placement = _placement(as_user(people.dcfs_case_worker), case, "2026-10-01", address="1 Synthetic Way")
    partner = as_user(people.sheriff_case_worker).get(f"/api/v1/placements/{placement['id']}/")
    assert partner.status_code == 200 and partner.json()["address"] is None
    assert "Synthetic Way" not in partner.content.decode()


def test_no_one_outside_the_case_reaches_a_placement(people, as_user, case):
    placement = _placement(as_user(people.dcfs_case_worker), case, "2026-10-01")
    path = f"/api/v1/placements/{placement['id']}/"
    for user in (people.probation_supervisor, people.dmh_case_worker, people.dcfs_worker2):
        assert as_user(user).get(path).status_code == 404, user.username
        assert (
            as_user(user).patch(path, {"end_date": "2026-11-01", "end_reason": "x"}, format="json").status_code == 404
        )
    for user in (people.dcfs_mdt_member, people.dcfs_agency_admin, people.system_admin):
        assert as_user(user).get(path).status_code == 404, user.username


# --- services --------------------------------------------------------------------------------------


def _service(client, case, **extra):  # type: ignore[no-untyped-def]
    body = {"provider": "Synthetic advocates", "kind": "advocacy", "referred_at": _ago(days=10), **extra}
    response = client.post(f"/api/v1/cases/{case.pk}/services/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _ago(**delta):  # type: ignore[no-untyped-def]
    return (timezone.now() - dt.timedelta(**delta)).isoformat()


def test_a_service_moves_through_its_statuses_with_dates(people, as_user, case):
    client = as_user(people.sheriff_case_worker)
    service = _service(client, case)
    path = f"/api/v1/services/{service['id']}/"
    assert service["status"] == "referred" and service["kind"] == "advocacy"
    # when: accepted (with the day it happened), started (now), completed
    accepted = client.patch(path, {"status": "accepted", "accepted_at": _ago(days=8)}, format="json")
    etag = accepted["ETag"]
    started = client.patch(path, {"status": "in_progress"}, format="json", HTTP_IF_MATCH=etag)
    stale = client.patch(path, {"status": "completed"}, format="json", HTTP_IF_MATCH=etag)
    completed = client.patch(path, {"status": "completed"}, format="json")
    # then
    assert accepted.status_code == 200 and accepted.json()["accepted_at"] is not None
    assert started.status_code == 200 and started.json()["started_at"] is not None
    assert stale.status_code == 412
    assert completed.status_code == 200 and completed.json()["ended_at"] is not None
    # a completed service moves no more
    assert client.patch(path, {"status": "in_progress"}, format="json").status_code == 409
    statuses = [h["fields"].get("status") for h in _history(client, case, "service_referral")]
    assert [s for s in statuses if s] == ["referred", "accepted", "in_progress", "completed"]


def test_a_service_can_end_early_and_says_why(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    declined = _service(client, case)
    not_engaged = _service(client, case, provider="Synthetic mentors")
    response = client.patch(
        f"/api/v1/services/{declined['id']}/", {"status": "declined", "status_reason": "youth declined"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status_reason"] == "youth declined"
    # not engaged only once accepted
    path = f"/api/v1/services/{not_engaged['id']}/"
    assert client.patch(path, {"status": "not_engaged"}, format="json").status_code == 409
    assert client.patch(path, {"status": "accepted"}, format="json").status_code == 200
    assert client.patch(path, {"status": "not_engaged"}, format="json").json()["status"] == "not_engaged"


def test_a_service_date_is_a_fact(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    service = _service(client, case)
    path = f"/api/v1/services/{service['id']}/"
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert client.patch(path, {"status": "accepted", "accepted_at": future}, format="json").status_code == 400
    early = client.patch(path, {"status": "accepted", "accepted_at": _ago(days=30)}, format="json")
    assert early.status_code == 400 and "accepted_at" in early.json()["errors"]
    assert client.patch(path, {"status": "bogus"}, format="json").status_code == 400


# --- hearings --------------------------------------------------------------------------------------


def _hearing(client, case, starts_at):  # type: ignore[no-untyped-def]
    response = client.post(
        f"/api/v1/cases/{case.pk}/hearings/", {"starts_at": starts_at, "hearing_type": "review"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_hearing_is_rescheduled_then_held_with_its_outcome(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    hearing = _hearing(client, case, (timezone.now() + dt.timedelta(days=3)).isoformat())
    path = f"/api/v1/hearings/{hearing['id']}/"
    assert hearing["status"] == "scheduled"
    later = (timezone.now() + dt.timedelta(days=10)).replace(microsecond=0)
    # a reschedule needs its reason
    assert client.patch(path, {"starts_at": later.isoformat()}, format="json").status_code == 400
    moved = client.patch(path, {"starts_at": later.isoformat(), "reason": "court calendar"}, format="json")
    assert moved.status_code == 200 and moved.json()["status"] == "rescheduled"
    assert moved.json()["reason"] == "court calendar"
    # not held before its time
    assert client.patch(path, {"status": "held"}, format="json").status_code == 400
    # an outcome only once held
    assert client.patch(path, {"outcome": "continued"}, format="json").status_code == 400
    # the history keeps the first time
    times = [h["fields"].get("starts_at") for h in _history(client, case, "court_hearing")]
    assert len([t for t in times if t]) == 2


def test_a_past_hearing_is_held_and_its_outcome_recorded(people, as_user, case):
    client = as_user(people.sheriff_case_worker)
    hearing = _hearing(client, case, _ago(hours=3))
    path = f"/api/v1/hearings/{hearing['id']}/"
    held = client.patch(path, {"status": "held", "outcome": "Disposition: continued in care"}, format="json")
    assert held.status_code == 200 and held.json()["status"] == "held"
    assert held.json()["outcome"] == "Disposition: continued in care"
    # the outcome of a held hearing may be corrected; it is not moved or cancelled any more
    assert client.patch(path, {"outcome": "Disposition: home of parent"}, format="json").status_code == 200
    assert client.patch(path, {"status": "cancelled", "reason": "x"}, format="json").status_code == 409
    later = (timezone.now() + dt.timedelta(days=3)).isoformat()
    assert client.patch(path, {"starts_at": later, "reason": "x"}, format="json").status_code == 409


def test_a_hearing_is_cancelled_with_a_reason(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    hearing = _hearing(client, case, (timezone.now() + dt.timedelta(days=3)).isoformat())
    path = f"/api/v1/hearings/{hearing['id']}/"
    assert client.patch(path, {"status": "cancelled"}, format="json").status_code == 400
    etag = client.get(path)["ETag"]
    cancelled = client.patch(
        path, {"status": "cancelled", "reason": "petition dismissed"}, format="json", HTTP_IF_MATCH=etag
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.patch(path, {"status": "held"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert client.patch(path, {"status": "held"}, format="json").status_code == 409


# --- alerts ----------------------------------------------------------------------------------------


def _alert(client, case, **extra):  # type: ignore[no-untyped-def]
    body = {"kind": "known_exploiter", "summary": "Do not disclose placement", **extra}
    response = client.post(f"/api/v1/cases/{case.pk}/alerts/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_safety_alert_is_resolved_and_stays_in_the_history(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    alert = _alert(client, case, protected_detail="Synthetic person of concern")
    # when
    resolved = client.post(f"/api/v1/alerts/{alert['id']}/resolve/", {"reason": "order of protection"}, format="json")
    # then: who, when, why
    assert resolved.status_code == 200, resolved.json()
    body = resolved.json()
    assert body["is_active"] is False and body["resolved_by"] == people.dcfs_case_worker.pk
    assert body["resolved_at"] is not None and body["resolution_reason"] == "order of protection"
    # it no longer shows at the top of the case, but is still listed and in the history
    top = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert "alerts" in top and all(a["id"] != alert["id"] for a in top["alerts"])
    assert [a["id"] for a in client.get(f"/api/v1/cases/{case.pk}/alerts/").json()["results"]] == [alert["id"]]
    changes = [h for h in _history(client, case, "safety_alert") if h["change"] == "changed"]
    assert changes and changes[-1]["fields"]["resolution_reason"] == "order of protection"
    timeline = client.get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
    assert "safety_alert_resolved" in [i["kind"] for i in timeline]
    # twice: conflict
    again = client.post(f"/api/v1/alerts/{alert['id']}/resolve/", {"reason": "again"}, format="json")
    assert again.status_code == 409


def test_a_partner_cannot_resolve_the_lead_agency_alert(people, as_user, case):
    alert = _alert(as_user(people.dcfs_case_worker), case)
    path = f"/api/v1/alerts/{alert['id']}/resolve/"
    assert as_user(people.sheriff_case_worker).post(path, {"reason": "x"}, format="json").status_code == 403
    assert as_user(people.probation_supervisor).post(path, {"reason": "x"}, format="json").status_code == 404
    assert as_user(people.dcfs_case_worker).post(path, {}, format="json").status_code == 400
    # the partner may resolve an alert they raised themselves
    own = _alert(as_user(people.sheriff_case_worker), case, kind="safety_risk", summary="Synthetic risk")
    response = as_user(people.sheriff_case_worker).post(
        f"/api/v1/alerts/{own['id']}/resolve/", {"reason": "risk passed"}, format="json"
    )
    assert response.status_code == 200
