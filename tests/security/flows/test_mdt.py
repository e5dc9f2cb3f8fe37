"""Abuse stories of the court MDT (SPEC §4): attendance, versioned reviews, agenda suggestions.

Each story is a sequence of legitimate API calls, with the state made through the services."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from types import SimpleNamespace

import pytest
import time_machine

from cases.services import cases as case_services
from cases.services import court_hearings as hearing_services
from core.permissions import Role
from mdt.models import MDTTeam
from mdt.services.agenda import agenda_item_add
from mdt.services.meetings import meeting_publish, meeting_schedule
from mdt.services.teams import team_member_add
from tests.cases.factories import open_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

#: Monday 2 March 2026, 9:00 Pacific.
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def court(agencies, system_admin, frozen):  # type: ignore[no-untyped-def]
    """STAR (a Probation coordinator, a Sheriff MDT member) and DREAM (a DCFS coordinator); a
    Probation-led STAR case whose Probation case worker is on the case team, and a DCFS-led
    DREAM case."""
    for app in ("cases", "notifications", "mdt"):
        import_module(f"{app}.bootstrap").run()
    teams = {team.code: team for team in MDTTeam.objects.all()}

    def user(name: str, agency: str, role: str):  # type: ignore[no-untyped-def]
        return UserFactory(username=name, agency=agencies[agency], role=role)

    w = SimpleNamespace(
        star=teams["STAR"],
        dream=teams["DREAM"],
        star_coordinator=user("star_coordinator", "PROBATION", Role.MDT_MEMBER),
        star_member=user("star_member", "SHERIFF", Role.MDT_MEMBER),
        dream_coordinator=user("dream_coordinator", "DCFS", Role.MDT_MEMBER),
        probation_worker=user("probation_worker", "PROBATION", Role.CASE_WORKER),
        probation_other_worker=user("probation_other_worker", "PROBATION", Role.CASE_WORKER),
        probation_supervisor=user("probation_supervisor", "PROBATION", Role.SUPERVISOR),
        dcfs_worker=user("dcfs_worker", "DCFS", Role.CASE_WORKER),
        dcfs_supervisor=user("dcfs_supervisor", "DCFS", Role.SUPERVISOR),
        off_team_member=user("off_team_member", "DMH", Role.MDT_MEMBER),
    )
    team_member_add(team=w.star, user=w.star_coordinator, is_coordinator=True, actor=system_admin)
    team_member_add(team=w.star, user=w.star_member, actor=system_admin)
    team_member_add(team=w.dream, user=w.dream_coordinator, is_coordinator=True, actor=system_admin)
    w.star_case = open_case(w.probation_worker, w.probation_supervisor)
    case_services.case_update(case=w.star_case, actor=w.probation_supervisor, data={"court": "STAR"})
    w.dream_case = open_case(w.dcfs_worker, w.dcfs_supervisor)
    case_services.case_update(case=w.dream_case, actor=w.dcfs_supervisor, data={"court": "DREAM"})
    return w


def _meeting(team, coordinator, starts_at):  # type: ignore[no-untyped-def]
    (meeting,) = meeting_schedule(
        team=team, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), location="Dept. 2", actor=coordinator
    )
    return meeting


def test_attendance_refuses_people_outside_the_team(court, make_client):  # type: ignore[no-untyped-def]
    # given a published STAR meeting with the Probation-led case on its agenda (Probation presents)
    meeting = _meeting(court.star, court.star_coordinator, T0 + dt.timedelta(days=9))
    item = agenda_item_add(
        meeting=meeting, case_id=court.star_case.pk, reason="court_date", actor=court.star_coordinator
    )
    assert item.presenting_agency.code == "PROBATION"
    meeting_publish(meeting=meeting, actor=court.star_coordinator)
    client = make_client(court.star_member)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/attendance/"

    def mark(user, **extra):  # type: ignore[no-untyped-def]
        return client.post(url, {"user": user.pk, "present": True, **extra}, format="json")

    # when a member marks people who are neither on the team nor presenting an item
    refused = {
        "an MDT member of another agency, on no team": mark(court.off_team_member),
        "the other team's coordinator": mark(court.dream_coordinator),
        "a DCFS worker with nothing to do with the case": mark(court.dcfs_worker),
        "a Probation worker not on the presented case": mark(court.probation_other_worker),
    }
    # then each is refused with a field message, and no attendance row names them
    for who, response in refused.items():
        assert response.status_code == 400, (who, response.status_code)
        assert response.json()["errors"]["user"], who
    # and the team's members and the presenting agency's worker on the case can be marked
    assert mark(court.star_coordinator).status_code == 201
    assert mark(court.probation_worker).status_code == 201
    # but not as another agency than their own
    assert mark(court.star_member, agency="DCFS").status_code == 400
    listed = {row["user"] for row in client.get(url).json()["results"]}
    assert listed == {court.star_coordinator.pk, court.probation_worker.pk}


def test_a_review_edit_keeps_the_earlier_version(court, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a published STAR meeting with the case on its agenda
    meeting = _meeting(court.star, court.star_coordinator, T0 + dt.timedelta(days=9))
    item = agenda_item_add(
        meeting=meeting, case_id=court.star_case.pk, reason="court_date", actor=court.star_coordinator
    )
    meeting_publish(meeting=meeting, actor=court.star_coordinator)
    review_url = f"/api/v1/mdt/items/{item.pk}/review/"
    # when the coordinator records the outcome and, an hour later, a member edits it
    first = make_client(court.star_coordinator).post(
        review_url, {"summary": "First outcome.", "decisions": "Refer to mentor."}, format="json"
    )
    assert first.status_code == 200, first.content
    frozen.shift(dt.timedelta(hours=1))
    second = make_client(court.star_member).post(
        review_url, {"summary": "Corrected outcome.", "decisions": "Refer to mentor and therapist."}, format="json"
    )
    assert second.status_code == 200, second.content
    # then the API shows the latest and keeps the earlier version with its author and time
    (shown,) = make_client(court.star_coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/items/").json()["results"]
    assert shown["review_summary"] == "Corrected outcome."
    assert shown["reviewed_by"] == court.star_member.pk
    versions = shown["review_versions"]
    assert [(v["version"], v["summary"], v["decisions"], v["reviewed_by"]) for v in versions] == [
        (2, "Corrected outcome.", "Refer to mentor and therapist.", court.star_member.pk),
        (1, "First outcome.", "Refer to mentor.", court.star_coordinator.pk),
    ]
    assert versions[1]["reviewed_at"] == "2026-03-02T09:00:00-08:00"
    assert versions[0]["reviewed_at"] == "2026-03-02T10:00:00-08:00"
    assert second.json()["review_versions"] == versions


def test_suggestions_stay_within_the_teams_court(court, make_client):  # type: ignore[no-untyped-def]
    # given a STAR meeting three weeks out, a STAR case and a DREAM case both with a hearing in
    # the 14 days after that meeting (but not within 14 days of today)
    meeting_at = T0 + dt.timedelta(days=21)
    meeting = _meeting(court.star, court.star_coordinator, meeting_at)
    for case, supervisor in ((court.star_case, court.probation_supervisor), (court.dream_case, court.dcfs_supervisor)):
        hearing_services.court_hearing_create(
            case=case, actor=supervisor, starts_at=meeting_at + dt.timedelta(days=5), hearing_type="review"
        )
    # and a STAR case whose only hearing is soon, before the meeting
    early = open_case(court.probation_worker, court.probation_supervisor)
    case_services.case_update(case=early, actor=court.probation_supervisor, data={"court": "STAR"})
    hearing_services.court_hearing_create(
        case=early, actor=court.probation_supervisor, starts_at=T0 + dt.timedelta(days=3), hearing_type="review"
    )
    client = make_client(court.star_coordinator)
    # when the STAR coordinator asks for suggestions
    response = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/suggestions/")
    # then only the STAR case whose hearing follows the meeting is suggested
    assert response.status_code == 200
    assert [row["case"] for row in response.json()["results"]] == [court.star_case.pk]
    # and the DREAM case cannot be put on the STAR agenda, with the same answer as a missing case
    other_court = client.post(
        f"/api/v1/mdt/meetings/{meeting.pk}/items/",
        {"case": court.dream_case.pk, "reason": "court_date"},
        format="json",
    )
    missing = client.post(
        f"/api/v1/mdt/meetings/{meeting.pk}/items/", {"case": 999_999, "reason": "court_date"}, format="json"
    )
    assert other_court.status_code == missing.status_code == 400
    assert other_court.json() == missing.json()
    assert (
        client.post(
            f"/api/v1/mdt/meetings/{meeting.pk}/items/",
            {"case": court.star_case.pk, "reason": "court_date"},
            format="json",
        ).status_code
        == 201
    )
