"""Services of kind `mental_health` are clinical information (SPEC §2, WIC 5328): shown only
where clinical notes are — to users of a clinical agency (HARBOR_CLINICAL_AGENCIES) who may see
the case — in the list, the detail, the timeline and the history; written only by them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.services import cases as case_services

from .factories import open_case

pytestmark = pytest.mark.django_db

TF_CBT = {"provider": "Synthetic clinic", "kind": "mental_health", "evidence_based_practice": "TF-CBT"}


@pytest.fixture
def case(people):  # type: ignore[no-untyped-def]
    """DCFS leads; Sheriff, Probation and DMH participate, each with its worker on the team."""
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    for user, role in (
        (people.sheriff_case_worker, "referring_worker"),
        (people.probation_case_worker, "probation_officer"),
        (people.dmh_case_worker, "clinician"),
    ):
        case_services.case_agency_grant(
            case=case, actor=people.dcfs_supervisor, agency=user.agency, legal_basis="mdt_18961_7"
        )
        case_services.case_team_member_add(case=case, actor=people.dcfs_supervisor, user=user, case_role=role)
    return case


def _tf_cbt(as_user, people, case):  # type: ignore[no-untyped-def]
    response = as_user(people.dmh_case_worker).post(
        f"/api/v1/cases/{case.pk}/services/", {**TF_CBT, "referred_at": timezone.now().isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_tf_cbt_referral_is_invisible_to_the_sheriff_and_probation(people, as_user, case):
    # given: the DMH clinician refers the youth to TF-CBT, and DCFS records a health exam
    service = _tf_cbt(as_user, people, case)
    exam = as_user(people.dcfs_case_worker).post(
        f"/api/v1/cases/{case.pk}/services/",
        {"provider": "Synthetic hospital", "kind": "health_exam", "referred_at": timezone.now().isoformat()},
        format="json",
    )
    assert exam.status_code == 201
    for outsider in (
        people.sheriff_case_worker,
        people.sheriff_supervisor,
        people.probation_case_worker,
        people.dcfs_case_worker,
        people.dcfs_supervisor,
    ):
        client = as_user(outsider)
        # when
        listed = client.get(f"/api/v1/cases/{case.pk}/services/")
        detail = client.get(f"/api/v1/services/{service['id']}/")
        patched = client.patch(f"/api/v1/services/{service['id']}/", {"status": "accepted"}, format="json")
        timeline = client.get(f"/api/v1/cases/{case.pk}/timeline/")
        history = client.get(f"/api/v1/cases/{case.pk}/history/")
        # then: not in the list, the detail answers 404, as does the edit; not in the timeline or
        # the history — the health exam is
        assert listed.status_code == 200
        assert [s["id"] for s in listed.json()["results"]] == [exam.json()["id"]], outsider.username
        assert detail.status_code == 404 and patched.status_code == 404
        timeline_ids = [i["object_id"] for i in timeline.json()["results"] if i["object_type"] == "service_referral"]
        history_ids = [e["object_id"] for e in history.json()["results"] if e["object_type"] == "service_referral"]
        assert timeline_ids == [exam.json()["id"]] and set(history_ids) == {exam.json()["id"]}
        assert "TF-CBT" not in history.content.decode() and "TF-CBT" not in listed.content.decode()


def test_the_clinician_sees_the_tf_cbt_referral_everywhere(people, as_user, case):
    # given
    service = _tf_cbt(as_user, people, case)
    client = as_user(people.dmh_case_worker)
    # when
    listed = client.get(f"/api/v1/cases/{case.pk}/services/").json()["results"]
    timeline = client.get(f"/api/v1/cases/{case.pk}/timeline/").json()["results"]
    history = client.get(f"/api/v1/cases/{case.pk}/history/").json()["results"]
    # then
    assert [s["id"] for s in listed] == [service["id"]] and listed[0]["kind"] == "mental_health"
    assert client.get(f"/api/v1/services/{service['id']}/").status_code == 200
    assert any(i["object_id"] == service["id"] for i in timeline if i["object_type"] == "service_referral")
    assert any(e["object_id"] == service["id"] for e in history if e["object_type"] == "service_referral")


def test_only_a_clinical_agency_records_a_mental_health_service(people, as_user, case):
    # when: a Sheriff deputy and a DCFS worker, who see the case, try to record one
    for user in (people.sheriff_case_worker, people.dcfs_case_worker):
        response = as_user(user).post(
            f"/api/v1/cases/{case.pk}/services/", {**TF_CBT, "referred_at": timezone.now().isoformat()}, format="json"
        )
        # then: refused (they could never read it back), nothing recorded
        assert response.status_code == 403, user.username
    assert as_user(people.dmh_case_worker).get(f"/api/v1/cases/{case.pk}/services/").json()["results"] == []


def test_which_agencies_are_clinical_is_the_deployment_setting(people, as_user, case, settings):
    # given: a deployment that names Probation clinical as well
    service = _tf_cbt(as_user, people, case)
    settings.HARBOR_CLINICAL_AGENCIES = ["DMH", "PROBATION"]
    # then
    assert as_user(people.probation_case_worker).get(f"/api/v1/services/{service['id']}/").status_code == 200
    assert as_user(people.sheriff_case_worker).get(f"/api/v1/services/{service['id']}/").status_code == 404
