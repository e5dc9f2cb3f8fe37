"""Finding the cases to put on an agenda (SPEC §4): a coordinator searches by case number among
the open cases of the team's court, and sees the agenda view of each match only."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from cases.models import Case
from tests.mdt.factories import YOUTH_FIRST_NAME, YOUTH_LAST_NAME, CaseFactory, NoteFactory
from tests.mdt.support import schedule

pytestmark = pytest.mark.django_db


def _search(client, team, number):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/mdt/teams/{team.pk}/eligible-cases/", {"number": number})


def test_the_coordinator_finds_an_open_case_of_the_court_by_part_of_its_number(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given STAR cases: the one sought, a closed one and a DREAM one, numbered one after the
    # other by the service (H-2026-000001 …)
    sought = CaseFactory(court="STAR")
    closed = CaseFactory(court="STAR", status=Case.Status.CLOSED)
    other_court = CaseFactory(court="DREAM")
    NoteFactory(case=sought)
    prefix = sought.number[:-1]
    assert closed.number.startswith(prefix) and other_court.number.startswith(prefix)

    # when the STAR coordinator searches for the last digits and for the prefix shared by all three
    client = make_client(people.star_coordinator)
    exact = _search(client, star, sought.number[-4:])
    broad = _search(client, star, prefix)

    # then only the open STAR case is found, as its agenda view, with nothing identifying
    assert exact.status_code == 200, exact.content
    (found,) = exact.json()["results"]
    assert found["case"] == sought.pk and found["case_number"] == sought.number
    assert set(found) == {
        "case",
        "case_number",
        "youth_initials",
        "youth_age",
        "lead_agency",
        "csec_status",
        "safety_alerts",
        "open_deadlines",
        "open_action_items",
        "last_review",
    }
    raw = json.dumps(exact.json())
    assert YOUTH_FIRST_NAME not in raw and YOUTH_LAST_NAME not in raw
    assert [c["case"] for c in broad.json()["results"]] == [sought.pk]
    # and the read is audited with the youth it concerns
    events = AuditEvent.objects.filter(object_type="case_agenda_view", actor_id=people.star_coordinator.pk)
    assert {e.action for e in events} == {"list"}
    assert any(sought.youth_id == e.youth_id or sought.youth_id in (e.youth_ids or []) for e in events)


def test_the_found_case_can_then_be_put_on_the_agenda(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    (found,) = _search(client, star, case.number[-6:]).json()["results"]
    added = client.post(
        f"/api/v1/mdt/meetings/{meeting.pk}/items/", {"case": found["case"], "reason": "progress_review"}, format="json"
    )
    assert added.status_code == 201, added.content
    assert added.json()["case"] == case.pk


def test_the_search_answers_nothing_for_another_courts_case(people, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    response = _search(make_client(people.dream_coordinator), dream, case.number[-6:])
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("who", ["da_member", "dmh_clinician", "dream_coordinator", "case_worker", "auditor"])
def test_only_the_teams_coordinators_search_its_court(people, star, make_client, who):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    response = _search(make_client(getattr(people, who)), star, case.number[-6:])
    assert response.status_code == 403
    assert case.number[-6:] not in response.content.decode()


@pytest.mark.parametrize("number", [None, "", "12", "x" * 21])
def test_a_search_needs_a_few_characters_of_a_number(people, star, make_client, number):  # type: ignore[no-untyped-def]
    params = {} if number is None else {"number": number}
    response = make_client(people.star_coordinator).get(f"/api/v1/mdt/teams/{star.pk}/eligible-cases/", params)
    assert response.status_code == 400
    assert response.json()["errors"]["number"]


def test_an_unknown_team_is_404(people, make_client):  # type: ignore[no-untyped-def]
    response = make_client(people.star_coordinator).get("/api/v1/mdt/teams/999999/eligible-cases/", {"number": "0001"})
    assert response.status_code == 404


def test_the_search_costs_the_same_queries_for_one_match_and_for_twenty(
    people, star, make_client, django_assert_max_num_queries
):  # type: ignore[no-untyped-def]
    cases = [CaseFactory(court="STAR") for _ in range(20)]
    client = make_client(people.star_coordinator)
    with django_assert_max_num_queries(20):
        response = _search(client, star, cases[0].number[: len("H-2026-")])
    assert len(response.json()["results"]) == 20
