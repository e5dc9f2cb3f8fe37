"""Query counts of every MDT endpoint (SPEC §8): reads pinned, the same with 1 and 50 rows;
writes shown not to grow with the size of the agenda.

A pinned read count: authentication (token, user), the visibility check, the page (count +
rows + what it joins in bulk), and one INSERT for the audit events of the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mdt.models import Attendance, MDTTeam
from mdt.services.action_items import action_item_create
from mdt.services.agenda import agenda_item_review
from mdt.services.calendar_feeds import calendar_feed_rotate
from mdt.services.meetings import meeting_hold, meeting_publish, meeting_schedule
from mdt.services.teams import team_member_add, team_member_remove
from tests.factories import UserFactory
from tests.mdt.factories import CaseFactory, CourtHearingFactory, SafetyAlertFactory
from tests.mdt.support import NEXT_WEEK, T0, add, published_meeting, schedule

pytestmark = pytest.mark.django_db

ROWS = [1, 50]


def _cases(n: int) -> list[Any]:
    return [CaseFactory(court="STAR") for _ in range(n)]


def _rich_meeting(people: Any, star: Any, rows: int) -> Any:
    """A published meeting of `rows` cases, each with an alert, an open action item carried
    from last week and a review outcome from last week."""
    coordinator = people.star_coordinator
    cases = _cases(rows)
    for case in cases:
        SafetyAlertFactory(case=case)
    last_week = published_meeting(star, coordinator, cases, starts_at=NEXT_WEEK - dt.timedelta(days=7))
    for item in last_week.items.all():
        agenda_item_review(item=item, summary="ok", decisions="continue", actor=coordinator)
        action_item_create(
            case_id=item.case_id,
            meeting=last_week,
            description="next step",
            assignee=people.da_member,
            agency=people.da,
            due_at=T0 + dt.timedelta(days=4),
            actor=coordinator,
        )
    return published_meeting(star, coordinator, cases)


# --- reads: pinned, the same for 1 and 50 rows ----------------------------------------------------


@pytest.mark.parametrize("rows", ROWS)
def test_team_list(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    for n in range(rows - 2):
        MDTTeam.objects.create(code=f"T{n}", name=f"Team {n}", court="STAR")
    if rows == 1:
        MDTTeam.objects.filter(code="DREAM").delete()
    client = make_client(people.da_member)
    with django_assert_num_queries(7):
        response = client.get("/api/v1/mdt/teams/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_team_member_list(people, dream, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    for n in range(rows - 2):
        team_member_add(team=dream, user=UserFactory(username=f"m{n}", role="mdt_member"), actor=people.system_admin)
    if rows == 1:
        team_member_remove(team=dream, user_id=people.dream_member.pk, actor=people.system_admin)
    client = make_client(people.dream_coordinator)
    with django_assert_num_queries(8):
        response = client.get(f"/api/v1/mdt/teams/{dream.pk}/members/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_meeting_list(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    meeting_schedule(
        team=star,
        starts_at=NEXT_WEEK,
        ends_at=NEXT_WEEK + dt.timedelta(hours=1),
        repeat_weekly=rows > 1,
        count=rows,
        actor=people.star_coordinator,
    )
    client = make_client(people.da_member)
    with django_assert_num_queries(7):
        response = client.get("/api/v1/mdt/meetings/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_meeting_item_list(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, _cases(rows))
    client = make_client(people.da_member)
    # 8: the items' review versions are one prefetch whatever the number of items, and the
    # page's one list event draws its id before it is signed
    with django_assert_num_queries(8):
        response = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/items/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_agenda_view_json(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    meeting = _rich_meeting(people, star, rows)
    client = make_client(people.da_member)
    # The cases' referral ids, then their deadlines through indexes: one query more, still fixed.
    with django_assert_num_queries(12):
        response = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/")
    items = response.json()["items"]
    assert len(items) == rows
    assert all(i["safety_alerts"] and i["open_action_items"] and i["last_review"] for i in items)


@pytest.mark.parametrize("rows", ROWS)
def test_agenda_view_pdf(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    meeting = _rich_meeting(people, star, rows)
    client = make_client(people.da_member)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf"
    # The agenda view's queries, plus the printed agenda's own: the 18961.7 sharings (one line naming
    # the agency), the attendance sheet's members and its recorded presenters, and the stored
    # rendering: read, then (the first time) created in a savepoint.
    with django_assert_num_queries(18):
        assert client.get(url).status_code == 200
    # A reprint of the unchanged agenda reads the rendering and writes nothing.
    with django_assert_num_queries(15):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("rows", ROWS)
def test_suggestions(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    for case in _cases(rows):
        CourtHearingFactory(case=case, starts_at=NEXT_WEEK + dt.timedelta(days=5))
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    with django_assert_num_queries(8):
        response = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/suggestions/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_attendance_list(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    for n in range(rows):
        user = UserFactory(username=f"att{n}", role="mdt_member")
        Attendance.objects.create(
            meeting=meeting, user=user, agency=user.agency, present=True, recorded_by=people.star_coordinator
        )
    client = make_client(people.da_member)
    with django_assert_num_queries(7):
        response = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/attendance/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_action_item_list(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    cases = _cases(rows)
    meeting = published_meeting(star, people.star_coordinator, cases)
    for case in cases:
        action_item_create(
            case_id=case.pk,
            meeting=meeting,
            description="step",
            assignee=people.da_member,
            agency=people.da,
            due_at=T0 + dt.timedelta(days=3),
            actor=people.star_coordinator,
        )
    client = make_client(people.da_member)
    with django_assert_num_queries(6):
        response = client.get("/api/v1/action-items/")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_calendar_feed(people, star, make_client, django_assert_num_queries, rows, frozen):  # type: ignore[no-untyped-def]
    meeting_schedule(
        team=star,
        starts_at=NEXT_WEEK,
        ends_at=NEXT_WEEK + dt.timedelta(hours=1),
        repeat_weekly=rows > 1,
        count=rows,
        actor=people.star_coordinator,
    )
    _, token = calendar_feed_rotate(actor=people.da_member)
    anonymous = make_client(people.da_member).__class__()
    with django_assert_num_queries(7):
        response = anonymous.get(f"/api/v1/mdt/feeds/{token}.ics")
    assert response.content.count(b"BEGIN:VEVENT") == rows


# --- single-object reads --------------------------------------------------------------------------


def test_single_object_reads(people, star, make_client, django_assert_num_queries, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    item = action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="step",
        assignee=people.da_member,
        agency=people.da,
        due_at=T0 + dt.timedelta(days=3),
        actor=people.star_coordinator,
    )
    client = make_client(people.da_member)
    for path, expected in [
        (f"/api/v1/mdt/meetings/{meeting.pk}/", 6),
        (f"/api/v1/mdt/meetings/{meeting.pk}/calendar.ics", 5),
        (f"/api/v1/action-items/{item.pk}/", 5),
        ("/api/v1/mdt/calendar-feed/", 5),
    ]:
        with django_assert_num_queries(expected):
            assert client.get(path).status_code == 200, path


# --- writes: no more queries for a long agenda than for a short one -------------------------------


def _count(fn: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code < 300, response.content
    return len(ctx.captured_queries)


def _write(action: str, client: Any, people: Any, meeting: Any, items: list[Any], cases: list[Any]) -> Any:
    url = f"/api/v1/mdt/meetings/{meeting.pk}"
    if action == "add_item":
        extra = CaseFactory(court="STAR")
        return lambda: client.post(f"{url}/items/", {"case": extra.pk, "reason": "other", "position": 1}, format="json")
    if action == "reorder":
        return lambda: client.post(f"{url}/items/reorder/", {"items": [i.pk for i in items[::-1]]}, format="json")
    if action == "publish":
        return lambda: client.post(f"{url}/publish/")
    if action == "patch_meeting":
        return lambda: client.patch(f"{url}/", {"location": "Video"}, format="json")
    if action == "review":
        return lambda: client.post(f"/api/v1/mdt/items/{items[0].pk}/review/", {"summary": "s"}, format="json")
    if action == "attendance":
        return lambda: client.post(f"{url}/attendance/", {"user": people.da_member.pk, "present": True}, format="json")
    if action == "hold":
        return lambda: client.post(f"{url}/hold/")
    if action == "finalize":
        return lambda: client.post(f"{url}/finalize-minutes/", {"minutes": "m"}, format="json")
    if action == "cancel":
        return lambda: client.post(f"{url}/cancel/", {}, format="json")
    if action == "action_item_create":
        body = {
            "case": cases[0].pk,
            "meeting": meeting.pk,
            "description": "d",
            "agency": "DA",
            "due_at": "2026-03-20T12:00:00Z",
        }
        return lambda: client.post("/api/v1/action-items/", body, format="json")
    if action == "action_item_patch":
        item = action_item_create(
            case_id=cases[0].pk,
            meeting=meeting,
            description="d",
            assignee=None,
            agency=people.da,
            due_at=T0 + dt.timedelta(days=9),
            actor=people.star_coordinator,
        )
        return lambda: client.patch(f"/api/v1/action-items/{item.pk}/", {"status": "done"}, format="json")
    if action == "patch_item":
        return lambda: client.patch(f"/api/v1/mdt/items/{items[0].pk}/", {"minutes_allotted": 5}, format="json")
    assert action == "delete_item"
    return lambda: client.delete(f"/api/v1/mdt/items/{items[0].pk}/")


WRITES = [
    "add_item",
    "reorder",
    "publish",
    "patch_meeting",
    "review",
    "attendance",
    "hold",
    "finalize",
    "cancel",
    "action_item_create",
    "action_item_patch",
    "patch_item",
    "delete_item",
]
SCHEDULED_ONLY = {"add_item", "reorder", "publish", "patch_meeting", "cancel", "patch_item", "delete_item"}


@pytest.mark.parametrize("action", WRITES)
def test_writes_do_not_grow_with_the_agenda(people, star, make_client, action, frozen):  # type: ignore[no-untyped-def]
    coordinator = make_client(people.star_coordinator)
    counts = []
    # The first round warms caches (content types, deadline rules created on first use); the
    # next two compare a short agenda with a long one.
    smallest = 2 if action == "reorder" else 1  # reordering one item changes nothing
    for rows, week in ((smallest, 0), (smallest, 1), (50, 2)):
        cases = _cases(rows)
        meeting = schedule(star, people.star_coordinator, NEXT_WEEK + dt.timedelta(days=7 * week))
        items = [add(meeting, case, people.star_coordinator) for case in cases]
        if action not in SCHEDULED_ONLY:
            meeting_publish(meeting=meeting, actor=people.star_coordinator)
        if action == "finalize":
            meeting_hold(meeting=meeting, actor=people.star_coordinator)
        counts.append(_count(_write(action, coordinator, people, meeting, items, cases)))
    assert counts[1] == counts[2], counts
