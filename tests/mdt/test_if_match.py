"""Every PATCH of MDT data takes If-Match (SPEC §6): a stale tag answers 412 and changes
nothing — not the fields, not the status; the tag of the last read, strong or weak (`W/"…"`),
is accepted. The check runs in the service, on the locked row."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from mdt.models import ActionItem, AgendaItem, Meeting
from mdt.services.action_items import action_item_create
from tests.mdt.factories import CaseFactory
from tests.mdt.support import T0, add, published_meeting, schedule

pytestmark = pytest.mark.django_db


def _weak(etag: str) -> str:
    return f"W/{etag}"


def _events(model: str, pk: int) -> int:
    return AuditEvent.objects.filter(object_type=model, object_id=str(pk)).exclude(action__in=["view", "list"]).count()


def test_a_stale_if_match_on_meeting_patch_answers_412_and_changes_nothing(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given: the coordinator read the meeting, then someone else moved it
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/"
    stale = client.get(url)["ETag"]
    frozen.shift(dt.timedelta(seconds=5))
    assert client.patch(url, {"location": "Room A"}, format="json").status_code == 200
    before = _events("mdt_meeting", meeting.pk)
    # when: a field change and a transition are sent with the old tag, strong or weak
    for tag in (stale, _weak(stale)):
        response = client.patch(url, {"location": "Room B", "status": "published"}, format="json", HTTP_IF_MATCH=tag)
        # then
        assert response.status_code == 412, response.content
        assert response.json()["code"] == "precondition_failed"
    meeting.refresh_from_db()
    assert (meeting.location, meeting.status) == ("Room A", Meeting.Status.SCHEDULED)
    assert _events("mdt_meeting", meeting.pk) == before


def test_a_weak_tag_of_the_current_meeting_is_accepted(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/"
    etag = client.get(url)["ETag"]
    frozen.shift(dt.timedelta(seconds=5))
    # when
    response = client.patch(url, {"status": "published"}, format="json", HTTP_IF_MATCH=_weak(etag))
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert response["ETag"] != etag


@pytest.fixture
def action_item(people, star, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    return action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="Call school",
        assignee=people.da_member,
        agency=people.da,
        due_at=T0 + dt.timedelta(days=3),
        actor=people.star_coordinator,
    )


def test_a_stale_if_match_on_action_item_patch_answers_412_and_changes_nothing(  # type: ignore[no-untyped-def]
    people, action_item, make_client, notify_calls, frozen
):
    client = make_client(people.star_coordinator)
    url = f"/api/v1/action-items/{action_item.pk}/"
    stale = client.get(url)["ETag"]
    frozen.shift(dt.timedelta(seconds=5))
    assert client.patch(url, {"description": "Call the school office"}, format="json").status_code == 200
    before = (_events("mdt_action_item", action_item.pk), len(notify_calls.calls))
    # when: the assignee marks it done with the old tag, strong or weak
    assignee = make_client(people.da_member)
    for tag in (stale, _weak(stale)):
        response = assignee.patch(url, {"status": "done"}, format="json", HTTP_IF_MATCH=tag)
        # then
        assert response.status_code == 412, response.content
    response = client.patch(url, {"description": "x", "status": "cancelled"}, format="json", HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    action_item.refresh_from_db()
    assert (action_item.description, action_item.status) == ("Call the school office", ActionItem.Status.OPEN)
    assert action_item.done_at is None and action_item.cancelled_at is None
    assert (_events("mdt_action_item", action_item.pk), len(notify_calls.calls)) == before


def test_a_weak_tag_of_the_current_action_item_is_accepted(people, action_item, make_client, frozen):  # type: ignore[no-untyped-def]
    client = make_client(people.da_member)
    url = f"/api/v1/action-items/{action_item.pk}/"
    etag = client.get(url)["ETag"]
    # when
    response = client.patch(url, {"status": "done"}, format="json", HTTP_IF_MATCH=_weak(etag))
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"


def test_agenda_item_patch_checks_if_match_too(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given: the ETag the last PATCH answered
    meeting = schedule(star, people.star_coordinator)
    item = add(meeting, CaseFactory(court="STAR"), people.star_coordinator)
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/items/{item.pk}/"
    first = client.patch(url, {"minutes_allotted": 15}, format="json")
    assert first.status_code == 200
    etag = first["ETag"]
    frozen.shift(dt.timedelta(seconds=5))
    # when / then: the current tag, weak, is accepted; the one before it is stale
    current = client.patch(url, {"minutes_allotted": 20}, format="json", HTTP_IF_MATCH=_weak(etag))
    assert current.status_code == 200, current.content
    stale = client.patch(url, {"minutes_allotted": 30}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert AgendaItem.objects.get(pk=item.pk).minutes_allotted == 20
