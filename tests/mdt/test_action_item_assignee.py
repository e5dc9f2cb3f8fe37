"""Who an action item goes to (SPEC §4): a member of the MDT team or of the case's team, and
the item's agency is the assignee's — clients no longer send it."""

from __future__ import annotations

import pytest

from cases.services.cases import case_team_member_add
from core.permissions import Role
from mdt.models import ActionItem
from tests.factories import UserFactory
from tests.mdt.factories import CaseFactory
from tests.mdt.support import published_meeting

pytestmark = pytest.mark.django_db

DUE = "2026-03-20T12:00:00-07:00"


@pytest.fixture
def dcfs_case(people):  # type: ignore[no-untyped-def]
    """A STAR case DCFS leads, with a DCFS social worker on its case team (not on the MDT)."""
    case = CaseFactory(court="STAR", lead_agency=people.agencies["DCFS"])
    supervisor = UserFactory(username="dcfs_sup", agency=people.agencies["DCFS"], role=Role.SUPERVISOR)
    social_worker = UserFactory(username="dcfs_sw", agency=people.agencies["DCFS"], role=Role.CASE_WORKER)
    case_team_member_add(case=case, actor=supervisor, user=social_worker, case_role="social_worker")
    return case, social_worker


def _create(client, meeting, case, **body):  # type: ignore[no-untyped-def]
    payload = {"case": case.pk, "meeting": meeting.pk, "description": "Call the school", "due_at": DUE, **body}
    return client.post("/api/v1/action-items/", payload, format="json")


def test_an_action_item_goes_to_the_cases_social_worker_who_is_not_on_the_mdt(
    people, star, dcfs_case, make_client, frozen
):  # type: ignore[no-untyped-def]
    # given a published STAR agenda with the DCFS case, and its social worker on no MDT team
    case, social_worker = dcfs_case
    meeting = published_meeting(star, people.star_coordinator, [case])

    # when the coordinator gives the follow-up to the social worker, without naming an agency
    response = _create(make_client(people.star_coordinator), meeting, case, assignee=social_worker.pk)

    # then it is theirs, owned by their agency, and they see it in their list
    assert response.status_code == 201, response.content
    assert response.json()["assignee"] == social_worker.pk
    assert response.json()["agency"] == "DCFS"
    mine = make_client(social_worker).get("/api/v1/action-items/").json()["results"]
    assert [item["id"] for item in mine] == [response.json()["id"]]


def test_the_items_agency_is_the_assignees_even_for_a_team_member(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    response = _create(make_client(people.star_coordinator), meeting, case, assignee=people.dmh_clinician.pk)
    assert response.status_code == 201, response.content
    assert response.json()["agency"] == "DMH"
    assert ActionItem.objects.get().agency.code == "DMH"


def test_an_agency_other_than_the_assignees_is_refused_naming_why(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    client = make_client(people.star_coordinator)
    response = _create(client, meeting, case, assignee=people.dmh_clinician.pk, agency="PROBATION")
    assert response.status_code == 400
    assert "assignee's" in response.json()["errors"]["agency"][0]
    # and the assignee's own agency, sent, is accepted
    assert _create(client, meeting, case, assignee=people.dmh_clinician.pk, agency="DMH").status_code == 201


def test_someone_on_neither_team_cannot_be_assigned(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    for stranger in (people.case_worker, people.dream_member, people.outsider):
        response = _create(make_client(people.star_coordinator), meeting, case, assignee=stranger.pk)
        assert response.status_code == 400, stranger.username
        assert response.json()["errors"]["assignee"]
    assert not ActionItem.objects.exists()


def test_a_social_worker_of_another_case_cannot_be_assigned(people, star, dcfs_case, make_client, frozen):  # type: ignore[no-untyped-def]
    # given the social worker of the DCFS case and another STAR case they are not on
    _, social_worker = dcfs_case
    other = CaseFactory(court="STAR", lead_agency=people.agencies["DCFS"])
    meeting = published_meeting(star, people.star_coordinator, [other])
    response = _create(make_client(people.star_coordinator), meeting, other, assignee=social_worker.pk)
    assert response.status_code == 400
    assert response.json()["errors"]["assignee"]


def test_an_item_without_an_assignee_names_its_agency(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    client = make_client(people.star_coordinator)
    assert _create(client, meeting, case).status_code == 400
    response = _create(client, meeting, case, agency="DA")
    assert response.status_code == 201, response.content
    assert response.json()["agency"] == "DA" and response.json()["assignee"] is None


def test_reassigning_moves_the_item_to_the_new_assignees_agency(people, star, dcfs_case, make_client, frozen):  # type: ignore[no-untyped-def]
    case, social_worker = dcfs_case
    meeting = published_meeting(star, people.star_coordinator, [case])
    client = make_client(people.star_coordinator)
    created = _create(client, meeting, case, assignee=people.dmh_clinician.pk).json()
    moved = client.patch(f"/api/v1/action-items/{created['id']}/", {"assignee": social_worker.pk}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["agency"] == "DCFS"
    refused = client.patch(f"/api/v1/action-items/{created['id']}/", {"agency": "DMH"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["agency"]
