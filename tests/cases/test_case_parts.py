"""Case parts: team, agencies, notes (team / agency / clinical), missing episodes, placements,
services, hearings, alerts, timeline and history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.services import cases as case_services
from cases.services import court_hearings as hearing_services
from cases.services import missing_episodes as episode_services
from cases.services import placements as placement_services
from cases.services import safety_alerts as alert_services
from cases.services import service_referrals as service_referral_services

from .factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(people):  # type: ignore[no-untyped-def]
    """DCFS leads; DCFS worker and a DMH clinician on the team; DMH participates (court_mdt); the
    referring Sheriff deputy's agency was shared the case explicitly (accepting shares nothing)."""
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.sheriff_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.sheriff_case_worker, case_role="referring_worker"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.dmh_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dmh_case_worker, case_role="clinician"
    )
    return case


def results(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json()
    return response.json()["results"]


# --- case detail, patch, close ----------------------------------------------------------------------


def test_case_patch_by_lead_with_etag(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    etag = client.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    ok = client.patch(
        f"/api/v1/cases/{case.pk}/", {"court": "DREAM", "csec_status": "identified"}, format="json", HTTP_IF_MATCH=etag
    )
    stale = client.patch(f"/api/v1/cases/{case.pk}/", {"court": "STAR"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok.json()["court"] == "DREAM" and ok.json()["csec_status"] == "identified"
    assert stale.status_code == 412
    assert client.get(f"/api/v1/cases/{case.pk}/").json()["court"] == "DREAM"
    # a participating agency's clinician sees but may not edit
    assert (
        as_user(people.dmh_case_worker).patch(f"/api/v1/cases/{case.pk}/", {"court": "STAR"}, format="json").status_code
        == 403
    )
    assert client.patch(f"/api/v1/cases/{case.pk}/", {"court": "NOPE"}, format="json").status_code == 400


def test_close_by_lead_supervisor_then_409(people, as_user, case):
    assert (
        as_user(people.dcfs_case_worker)
        .post(f"/api/v1/cases/{case.pk}/close/", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    closed = as_user(people.dcfs_supervisor).post(
        f"/api/v1/cases/{case.pk}/close/", {"reason": "Services completed"}, format="json"
    )
    assert (
        closed.status_code == 200
        and closed.json()["status"] == "closed"
        and closed.json()["close_reason"] == "Services completed"
    )
    assert (
        as_user(people.dcfs_supervisor)
        .post(f"/api/v1/cases/{case.pk}/close/", {"reason": "x"}, format="json")
        .status_code
        == 409
    )


# --- team and agencies --------------------------------------------------------------------------------


def test_team_assignment_rules(people, as_user, case):
    lead_sup = as_user(people.dcfs_supervisor)
    added = lead_sup.post(
        f"/api/v1/cases/{case.pk}/team/", {"user": people.dcfs_worker2.pk, "role": "social_worker"}, format="json"
    )
    assert added.status_code == 201 and added.json()["agency"] == "DCFS" and added.json()["role"] == "social_worker"
    # twice: conflict
    assert (
        lead_sup.post(
            f"/api/v1/cases/{case.pk}/team/", {"user": people.dcfs_worker2.pk, "role": "x"}, format="json"
        ).status_code
        == 409
    )
    # a worker of an agency that does not participate: 400
    assert (
        lead_sup.post(
            f"/api/v1/cases/{case.pk}/team/", {"user": people.probation_case_worker.pk, "role": "x"}, format="json"
        ).status_code
        == 400
    )
    # not a case role: 400
    assert (
        lead_sup.post(
            f"/api/v1/cases/{case.pk}/team/", {"user": people.dcfs_auditor.pk, "role": "x"}, format="json"
        ).status_code
        == 400
    )
    # a case worker may not assign: 403
    assert (
        as_user(people.dcfs_case_worker)
        .post(f"/api/v1/cases/{case.pk}/team/", {"user": people.dcfs_worker2.pk, "role": "x"}, format="json")
        .status_code
        == 403
    )
    # a participating agency's supervisor assigns only their own people
    dmh_sup = as_user(people.dmh_supervisor)
    assert (
        dmh_sup.post(
            f"/api/v1/cases/{case.pk}/team/", {"user": people.dcfs_worker2.pk, "role": "x"}, format="json"
        ).status_code
        == 403
    )
    # removal
    member_id = added.json()["id"]
    removed = lead_sup.delete(f"/api/v1/cases/{case.pk}/team/{member_id}/")
    assert removed.status_code == 200 and removed.json()["removed_at"]
    assert as_user(people.dcfs_worker2).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_agency_grants_validate_legal_basis(people, as_user, case):
    sup = as_user(people.dcfs_supervisor)
    url = f"/api/v1/cases/{case.pk}/agencies/"
    too_long = (timezone.now() + dt.timedelta(days=45)).isoformat()
    assert (
        sup.post(
            url, {"agency": "PROBATION", "legal_basis": "mdt_18961_7", "expires_at": too_long}, format="json"
        ).status_code
        == 400
    )
    assert sup.post(url, {"agency": "PROBATION", "legal_basis": "consent"}, format="json").status_code == 400
    assert sup.post(url, {"agency": "PROBATION", "legal_basis": "lead"}, format="json").status_code == 400
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert (
        sup.post(
            url, {"agency": "PROBATION", "legal_basis": "court_mdt", "expires_at": past}, format="json"
        ).status_code
        == 400
    )
    granted = sup.post(url, {"agency": "PROBATION", "legal_basis": "mdt_18961_7"}, format="json")
    assert granted.status_code == 201 and granted.json()["is_active"] is True
    assert sup.post(url, {"agency": "PROBATION", "legal_basis": "mdt_18961_7"}, format="json").status_code == 409
    assert sup.post(url, {"agency": "DCFS", "legal_basis": "court_mdt"}, format="json").status_code == 409
    assert (
        as_user(people.dcfs_case_worker)
        .post(url, {"agency": "PROBATION", "legal_basis": "court_mdt"}, format="json")
        .status_code
        == 403
    )
    listed = {row["agency"]: row for row in results(sup.get(url))}
    assert listed["DCFS"]["legal_basis"] == "lead" and listed["PROBATION"]["legal_basis"] == "mdt_18961_7"


def test_renewal_needs_good_cause(people, as_user, case):
    sup = as_user(people.dcfs_supervisor)
    sup.post(f"/api/v1/cases/{case.pk}/agencies/", {"agency": "PROBATION", "legal_basis": "mdt_18961_7"}, format="json")
    assert sup.post(f"/api/v1/cases/{case.pk}/agencies/PROBATION/renew/", {}, format="json").status_code == 400
    renewed = sup.post(
        f"/api/v1/cases/{case.pk}/agencies/PROBATION/renew/", {"good_cause": "Joint safety plan"}, format="json"
    )
    assert renewed.status_code == 200 and renewed.json()["good_cause"] == "Joint safety plan"
    assert (
        sup.post(f"/api/v1/cases/{case.pk}/agencies/NOPE/renew/", {"good_cause": "x"}, format="json").status_code == 404
    )


# --- notes ---------------------------------------------------------------------------------------------


def test_note_visibility(people, as_user, case):
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_worker2, case_role="social_worker"
    )
    dmh = as_user(people.dmh_case_worker)
    clinical = dmh.post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "Clinical synthetic text", "visibility": "clinical"}, format="json"
    )
    agency = as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "DCFS only", "visibility": "agency"}, format="json"
    )
    team = as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "Everyone", "visibility": "team"}, format="json"
    )
    assert clinical.status_code == agency.status_code == team.status_code == 201

    def seen(user):  # type: ignore[no-untyped-def]
        return {n["id"] for n in results(as_user(user).get(f"/api/v1/cases/{case.pk}/notes/"))}

    c, a, t = clinical.json()["id"], agency.json()["id"], team.json()["id"]
    assert seen(people.dmh_case_worker) == {c, t}
    assert seen(people.dmh_supervisor) == {c, t}
    assert seen(people.dcfs_worker2) == {a, t}
    assert seen(people.dcfs_supervisor) == {a, t}
    assert seen(people.sheriff_case_worker) == {t}
    assert as_user(people.dcfs_supervisor).get(f"/api/v1/cases/{case.pk}/notes/{c}/").status_code == 404
    assert as_user(people.dmh_supervisor).get(f"/api/v1/cases/{case.pk}/notes/{c}/").status_code == 200


def test_only_dmh_writes_clinical_notes(people, as_user, case):
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "x", "visibility": "clinical"}, format="json"
    )
    assert response.status_code == 403


def test_notes_are_append_only_and_corrections_reference_the_original(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    original = client.post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "Met at schol", "visibility": "team"}, format="json"
    ).json()
    assert (
        client.patch(f"/api/v1/cases/{case.pk}/notes/{original['id']}/", {"body": "x"}, format="json").status_code
        == 405
    )
    assert client.delete(f"/api/v1/cases/{case.pk}/notes/{original['id']}/").status_code == 405
    fix = client.post(
        f"/api/v1/cases/{case.pk}/notes/",
        {"body": "Met at school", "visibility": "team", "corrects": original["id"]},
        format="json",
    )
    assert fix.status_code == 201 and fix.json()["corrects"] == original["id"]
    mismatch = client.post(
        f"/api/v1/cases/{case.pk}/notes/",
        {"body": "x", "visibility": "agency", "corrects": original["id"]},
        format="json",
    )
    assert mismatch.status_code == 400
    # a clinical note cannot be "corrected" by someone who cannot read it
    clinical = (
        as_user(people.dmh_case_worker)
        .post(f"/api/v1/cases/{case.pk}/notes/", {"body": "c", "visibility": "clinical"}, format="json")
        .json()
    )
    assert (
        client.post(
            f"/api/v1/cases/{case.pk}/notes/",
            {"body": "x", "visibility": "clinical", "corrects": clinical["id"]},
            format="json",
        ).status_code
        == 400
    )


# --- placements and alerts: protected details ----------------------------------------------------------


def test_placement_address_only_for_the_lead_agency_case_team(people, as_user, case):
    created = as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/placements/",
        {
            "placement_type": "foster_home",
            "csec_specialized": True,
            "address": "123 Synthetic St",
            "start_date": "2026-02-01",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["address"] == "123 Synthetic St"
    for user in [people.dcfs_supervisor, people.dmh_case_worker, people.sheriff_case_worker]:
        rows = results(as_user(user).get(f"/api/v1/cases/{case.pk}/placements/"))
        assert rows[0]["address"] is None and rows[0]["placement_type"] == "foster_home"
    assert (
        results(as_user(people.dcfs_case_worker).get(f"/api/v1/cases/{case.pk}/placements/"))[0]["address"]
        == "123 Synthetic St"
    )
    # only the lead team records an address
    response = as_user(people.dmh_case_worker).post(
        f"/api/v1/cases/{case.pk}/placements/",
        {"placement_type": "shelter", "address": "x", "start_date": "2026-02-01"},
        format="json",
    )
    assert response.status_code == 403
    bad = as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/placements/",
        {"placement_type": "shelter", "start_date": "2026-02-01", "end_date": "2026-01-01"},
        format="json",
    )
    assert bad.status_code == 400


def test_alert_protected_detail_only_for_the_lead_team_and_summary_on_case_detail(people, as_user, case):
    created = as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/alerts/",
        {
            "kind": "known_exploiter",
            "summary": "Known exploiter: do not disclose placement",
            "protected_detail": "Synthetic person X",
        },
        format="json",
    )
    assert created.status_code == 201
    assert (
        results(as_user(people.dmh_case_worker).get(f"/api/v1/cases/{case.pk}/alerts/"))[0]["protected_detail"] is None
    )
    assert (
        results(as_user(people.dcfs_case_worker).get(f"/api/v1/cases/{case.pk}/alerts/"))[0]["protected_detail"]
        == "Synthetic person X"
    )
    detail = as_user(people.sheriff_case_worker).get(f"/api/v1/cases/{case.pk}/").json()
    assert detail["alerts"] == [
        {"id": created.json()["id"], "kind": "known_exploiter", "summary": "Known exploiter: do not disclose placement"}
    ]


# --- missing episodes, services, hearings ----------------------------------------------------------------


def test_missing_episode_create_and_patch_with_etag(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    created = client.post(
        f"/api/v1/cases/{case.pk}/missing-episodes/",
        {"missing_since": "2026-02-01T20:00:00-08:00", "learned_at": "2026-02-02T08:00:00-08:00"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    episode_id = created.json()["id"]
    etag = client.get(f"/api/v1/missing-episodes/{episode_id}/")["ETag"]
    patched = client.patch(
        f"/api/v1/missing-episodes/{episode_id}/",
        {"reported_to_law_enforcement_at": "2026-02-02T09:00:00-08:00", "ncic_number": "M123"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert patched.status_code == 200 and patched.json()["ncic_number"] == "M123"
    assert (
        client.patch(
            f"/api/v1/missing-episodes/{episode_id}/", {"ncic_number": "Z"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 412
    )
    bad = client.patch(
        f"/api/v1/missing-episodes/{episode_id}/", {"returned_at": "2026-01-01T00:00:00-08:00"}, format="json"
    )
    assert bad.status_code == 400
    assert [e["id"] for e in results(client.get(f"/api/v1/cases/{case.pk}/missing-episodes/"))] == [episode_id]


def test_services_and_hearings(people, as_user, case):
    client = as_user(people.dcfs_case_worker)
    service = client.post(
        f"/api/v1/cases/{case.pk}/services/",
        {
            "provider": "Synthetic Clinic",
            "evidence_based_practice": "TF-CBT",
            "referred_at": "2026-02-03T10:00:00-08:00",
        },
        format="json",
    )
    hearing = client.post(
        f"/api/v1/cases/{case.pk}/hearings/",
        {"starts_at": "2026-02-10T09:00:00-08:00", "hearing_type": "review", "court": "DREAM"},
        format="json",
    )
    assert service.status_code == 201 and service.json()["evidence_based_practice"] == "TF-CBT"
    assert hearing.status_code == 201 and hearing.json()["court"] == "DREAM"
    assert len(results(client.get(f"/api/v1/cases/{case.pk}/services/"))) == 1
    assert len(results(client.get(f"/api/v1/cases/{case.pk}/hearings/"))) == 1


# --- timeline and history ----------------------------------------------------------------------------------


def test_timeline_in_time_order_without_notes_the_reader_may_not_read(people, as_user, case):
    as_user(people.dmh_case_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "clinical", "visibility": "clinical"}, format="json"
    )
    as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "team", "visibility": "team"}, format="json"
    )
    episode_services.missing_episode_create(
        case=case, actor=people.dcfs_case_worker, missing_since=timezone.now(), learned_at=timezone.now()
    )
    alert_services.safety_alert_create(
        case=case, actor=people.dcfs_case_worker, kind="known_exploiter", summary="s", protected_detail="p"
    )
    placement_services.placement_create(
        case=case,
        actor=people.dcfs_case_worker,
        placement_type="shelter",
        start_date=timezone.localdate() + dt.timedelta(days=1),
        address="a",
    )
    service_referral_services.service_referral_create(
        case=case, actor=people.dcfs_case_worker, provider="p", referred_at=timezone.now()
    )
    hearing_services.court_hearing_create(
        case=case, actor=people.dcfs_case_worker, starts_at=timezone.now() + dt.timedelta(days=3), hearing_type="review"
    )
    dcfs = results(as_user(people.dcfs_supervisor).get(f"/api/v1/cases/{case.pk}/timeline/"))
    dmh = results(as_user(people.dmh_case_worker).get(f"/api/v1/cases/{case.pk}/timeline/"))
    assert [i["at"] for i in dcfs] == sorted(i["at"] for i in dcfs)
    kinds = [i["kind"] for i in dcfs]
    assert kinds[0] == "referral_received"
    assert {
        "case_opened",
        "missing_episode_started",
        "safety_alert_added",
        "placement_started",
        "service_referred",
        "court_hearing",
    } <= set(kinds)
    assert [i for i in dcfs if i["kind"] == "safety_alert_added"][0]["detail"] == {"kind": "known_exploiter"}
    assert [i["detail"]["visibility"] for i in dcfs if i["kind"] == "note_added"] == ["team"]
    assert sorted(i["detail"]["visibility"] for i in dmh if i["kind"] == "note_added") == ["clinical", "team"]


def test_history_records_every_change_and_filters_notes_and_addresses(people, as_user, case):
    as_user(people.dmh_case_worker).post(
        f"/api/v1/cases/{case.pk}/notes/", {"body": "clinical", "visibility": "clinical"}, format="json"
    )
    as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/placements/",
        {"placement_type": "foster_home", "address": "123 Synthetic St", "start_date": "2026-02-01"},
        format="json",
    )
    as_user(people.dcfs_case_worker).patch(f"/api/v1/cases/{case.pk}/", {"court": "DREAM"}, format="json")
    sup = results(as_user(people.dcfs_supervisor).get(f"/api/v1/cases/{case.pk}/history/?page_size=200"))
    worker = results(as_user(people.dcfs_case_worker).get(f"/api/v1/cases/{case.pk}/history/?page_size=200"))
    assert not any(e["object_type"] == "note" for e in sup)
    changed = [e for e in sup if e["object_type"] == "case" and e["change"] == "changed"]
    assert changed[-1]["fields"] == {"court": "DREAM"} and changed[-1]["actor"] == people.dcfs_case_worker.pk
    placement_sup = next(e for e in sup if e["object_type"] == "placement")
    placement_worker = next(e for e in worker if e["object_type"] == "placement")
    assert "address" not in placement_sup["fields"]
    assert placement_worker["fields"]["address"] == "123 Synthetic St"
    assert "123 Synthetic" not in str(sup)
