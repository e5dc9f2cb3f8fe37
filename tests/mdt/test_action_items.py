"""Action items (SPEC §4): recorded at or between meetings, owned by an agency and a person,
carried forward until done or cancelled."""

from __future__ import annotations

import datetime as dt

import pytest

from mdt.models import ActionItem
from mdt.services.action_items import action_item_create, action_item_update
from tests.mdt.factories import CaseFactory
from tests.mdt.support import NEXT_WEEK, T0, add, published_meeting, schedule

pytestmark = pytest.mark.django_db

DUE = "2026-03-09T17:00:00-07:00"


@pytest.fixture
def setting(people, star, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    return case, meeting


def body(case, **extra):  # type: ignore[no-untyped-def]
    return {"case": case.pk, "description": "Request school records", "agency": "DA", "due_at": DUE, **extra}


def test_a_member_records_an_action_item_and_its_deadline_opens(people, setting, make_client, notify_calls, frozen):  # type: ignore[no-untyped-def]
    case, meeting = setting
    response = make_client(people.da_member).post(
        "/api/v1/action-items/", body(case, meeting=meeting.pk, assignee=people.da_member.pk), format="json"
    )
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["status"] == "open" and item["team"] == meeting.team_id and item["meeting"] == meeting.pk
    assert item["case_number"] == case.number and item["agency"] == "DA" and item["due_at"] == DUE
    (opened,) = [c for c in notify_calls.named("deadline_open") if c["rule_code"] == "action_item_due"]
    assert opened["target"].pk == item["id"]
    assert opened["due_at"] == dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC)


def test_an_action_item_between_meetings_needs_a_case_on_the_teams_agendas(people, setting, make_client, frozen):  # type: ignore[no-untyped-def]
    case, _ = setting
    client = make_client(people.da_member)
    assert client.post("/api/v1/action-items/", body(case), format="json").status_code == 201
    # a STAR case never on an agenda, a DREAM case, a missing case: the same 400
    answers = [
        client.post("/api/v1/action-items/", body(CaseFactory(court="STAR")), format="json"),
        client.post("/api/v1/action-items/", {**body(case), "case": CaseFactory(court="DREAM").pk}, format="json"),
        client.post("/api/v1/action-items/", {**body(case), "case": 999_999}, format="json"),
    ]
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert len({str(a.json()) for a in answers}) == 1


def test_action_item_input_is_checked(people, setting, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    case, meeting = setting
    client = make_client(people.star_coordinator)
    dream_meeting = published_meeting(dream, people.dream_coordinator, [])
    cases = [
        (body(case, assignee=people.dream_member.pk, agency="DCFS"), "assignee"),  # not on the team
        (body(case, assignee=people.da_member.pk, agency="PROBATION"), "agency"),  # not the assignee's agency
        (body(case, agency="NOPE"), "agency"),
        (body(case, due_at="tomorrow"), "due_at"),
        (body(case, description=""), "description"),
        (body(case, meeting=dream_meeting.pk), "meeting"),  # a meeting the caller may not see
        (body(case, meeting=999_999), "meeting"),
        (body(case, status="bogus"), "status"),
    ]
    for payload, field in cases:
        response = client.post("/api/v1/action-items/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        data = response.json()
        assert field in data["errors"], (field, data)


def test_at_a_scheduled_meeting_it_is_too_early(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = schedule(star, people.star_coordinator)
    add(meeting, case, people.star_coordinator)
    response = make_client(people.star_coordinator).post(
        "/api/v1/action-items/", body(case, meeting=meeting.pk), format="json"
    )
    assert response.status_code == 409


def test_the_assignee_marks_it_done_others_may_not_edit(people, setting, make_client, notify_calls, frozen):  # type: ignore[no-untyped-def]
    case, meeting = setting
    item = action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="Call school",
        assignee=people.da_member,
        agency=people.da,
        due_at=T0 + dt.timedelta(days=3),
        actor=people.star_coordinator,
    )
    url = f"/api/v1/action-items/{item.pk}/"
    # a member who is not the assignee or a coordinator: 403
    assert make_client(people.dmh_clinician).patch(url, {"status": "done"}, format="json").status_code == 403
    # the assignee may change the status, not the rest
    assignee = make_client(people.da_member)
    assert assignee.patch(url, {"description": "Other"}, format="json").status_code == 403
    done = assignee.patch(url, {"status": "done"}, format="json")
    assert done.status_code == 200 and done.json()["done_at"] is not None
    assert notify_calls.named("deadline_meet")[-1]["rule_code"] == "action_item_due"
    # a closed item stays closed
    assert assignee.patch(url, {"status": "open"}, format="json").status_code == 409
    assert make_client(people.star_coordinator).patch(url, {"status": "cancelled"}, format="json").status_code == 409


def test_a_coordinator_edits_and_cancels(people, setting, make_client, notify_calls, frozen):  # type: ignore[no-untyped-def]
    case, meeting = setting
    item = action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="Call school",
        assignee=None,
        agency=people.da,
        due_at=T0 + dt.timedelta(days=3),
        actor=people.star_coordinator,
    )
    client = make_client(people.star_coordinator)
    url = f"/api/v1/action-items/{item.pk}/"
    etag = client.get(url)["ETag"]
    frozen.shift(dt.timedelta(seconds=1))
    moved = client.patch(
        url, {"due_at": "2026-03-20T17:00:00Z", "assignee": people.da_member.pk}, format="json", HTTP_IF_MATCH=etag
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["assignee"] == people.da_member.pk
    # the deadline is opened afresh for the new due time and assignee
    assert notify_calls.named("deadline_cancel")[-1]["rule_code"] == "action_item_due"
    assert notify_calls.named("deadline_open")[-1]["due_at"] == dt.datetime(2026, 3, 20, 17, 0, tzinfo=dt.UTC)
    assert client.patch(url, {"description": "x"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    cancelled = client.patch(url, {"status": "cancelled"}, format="json")
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_at"] is not None
    assert notify_calls.named("deadline_cancel")[-1]["rule_code"] == "action_item_due"


def test_who_sees_action_items(people, setting, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    case, meeting = setting
    item = action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="Call school",
        assignee=people.dmh_clinician,
        agency=people.agencies["DMH"],
        due_at=T0 + dt.timedelta(days=3),
        actor=people.star_coordinator,
    )
    for user, expected in [
        (people.star_coordinator, [item.pk]),
        (people.da_member, [item.pk]),
        (people.dmh_clinician, [item.pk]),
        (people.dream_member, []),
        (people.outsider, []),
        (people.system_admin, []),
        (people.auditor, []),
    ]:
        client = make_client(user)
        assert [i["id"] for i in client.get("/api/v1/action-items/").json()["results"]] == expected, user.username
        assert client.get(f"/api/v1/action-items/{item.pk}/").status_code == (200 if expected else 404)
        if not expected:
            assert (
                client.patch(f"/api/v1/action-items/{item.pk}/", {"status": "done"}, format="json").status_code == 404
            )


def test_action_item_filters(people, setting, make_client, frozen):  # type: ignore[no-untyped-def]
    case, meeting = setting
    other_case = CaseFactory(court="STAR")
    meeting_2 = published_meeting(
        meeting.team, people.star_coordinator, [other_case], starts_at=NEXT_WEEK + dt.timedelta(days=7)
    )
    a = action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="a",
        assignee=people.da_member,
        agency=people.da,
        due_at=T0 + dt.timedelta(days=3),
        actor=people.star_coordinator,
    )
    b = action_item_create(
        case_id=other_case.pk,
        meeting=meeting_2,
        description="b",
        assignee=None,
        agency=people.da,
        due_at=T0 + dt.timedelta(days=4),
        actor=people.star_coordinator,
    )
    action_item_update(item=b, data={"status": "done"}, actor=people.star_coordinator)
    client = make_client(people.star_coordinator)

    def ids(**params):  # type: ignore[no-untyped-def]
        return [i["id"] for i in client.get("/api/v1/action-items/", params).json()["results"]]

    assert ids() == [a.pk, b.pk]
    assert ids(case=case.pk) == [a.pk]
    assert ids(meeting=meeting_2.pk) == [b.pk]
    assert ids(status="open") == [a.pk]
    assert ids(assignee=people.da_member.pk) == [a.pk]
    assert client.get("/api/v1/action-items/", {"status": "nope"}).status_code == 400
    assert ActionItem.objects.count() == 2
