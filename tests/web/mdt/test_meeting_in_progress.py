"""The meeting in progress (issue 16 §5-7) through the pages: attendance, a review (an edit a new
version, the earlier shown), an action item, the minutes finalised after a confirmation (the
meeting locked); the assignee sees the item on their home and marks it done, and the next agenda
no longer carries it; the personal calendar feed is created and rotated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mdt.models import ActionItem, Attendance, Meeting
from tests.mdt.factories import CaseFactory
from tests.mdt.support import NEXT_WEEK, published_meeting, schedule
from tests.web.test_same_reads_as_the_api import _events_of

pytestmark = pytest.mark.django_db


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_recording_the_meeting_and_closing_the_action_item(people, star, web, frozen):
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    item = meeting.items.get()
    coordinator = web(people.star_coordinator)
    base = f"/app/mdt/meetings/{meeting.pk}"

    page = coordinator.get(f"{base}/session/").content.decode()
    assert "Dana Attorney" in page and "Record attendance" in page
    answer = coordinator.post(
        f"{base}/attendance/", {f"p{people.da_member.pk}": "present", f"p{people.dmh_clinician.pk}": "absent"}
    )
    assert answer.status_code == 302
    assert dict(Attendance.objects.filter(meeting=meeting).values_list("user_id", "present")) == {
        people.da_member.pk: True,
        people.dmh_clinician.pk: False,
    }

    for summary in ("Stable placement.", "Stable placement; school re-enrolled."):
        answer = coordinator.post(f"{base}/items/{item.pk}/review/", {f"r{item.pk}-summary": summary})
        assert answer.status_code == 302
    page = coordinator.get(f"{base}/session/").content.decode()
    assert "Current (version 2)" in page and "Earlier: version 1" in page and "Stable placement." in page

    empty = coordinator.post(f"{base}/items/{item.pk}/action-items/", {f"a{item.pk}-description": ""})
    assert empty.status_code == 400 and 'id="error-summary"' in empty.content.decode()
    answer = coordinator.post(
        f"{base}/items/{item.pk}/action-items/",
        {
            f"a{item.pk}-description": "Enrol in the mentoring programme",
            f"a{item.pk}-assignee": people.da_member.pk,
            f"a{item.pk}-due_at": _local(NEXT_WEEK + dt.timedelta(days=5)),
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    action = ActionItem.objects.get(case=case)
    assert action.assignee == people.da_member and action.agency == people.da

    # the minutes: saved, then finalised (the confirmation is on the page), the meeting locked
    assert 'data-confirm-target="finalise-confirm"' in page
    coordinator.post(f"{base}/minutes/", {"minutes": "Met; one case reviewed.", "finalise": "no"})
    meeting.refresh_from_db()
    assert meeting.minutes == "Met; one case reviewed." and meeting.status == Meeting.Status.PUBLISHED
    coordinator.post(f"{base}/minutes/", {"minutes": "Met; one case reviewed.", "finalise": "yes"})
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.MINUTES_FINAL
    locked = coordinator.post(f"{base}/items/{item.pk}/review/", {f"r{item.pk}-summary": "late"})
    assert locked.status_code == 409

    # the next agenda carries it; the assignee sees it on home and marks it done; then it is gone
    nxt = published_meeting(star, people.star_coordinator, [case], starts_at=NEXT_WEEK + dt.timedelta(days=7))
    member = web(people.da_member)
    assert "Enrol in the mentoring programme" in member.get(f"/app/mdt/meetings/{nxt.pk}/").content.decode()
    home = member.get("/app/").content.decode()
    assert "Enrol in the mentoring programme" in home and f"/app/mdt/action-items/{action.pk}/done/" in home
    assert member.post(f"/app/mdt/action-items/{action.pk}/done/", {"next": "/app/"})["Location"] == "/app/"
    action.refresh_from_db()
    assert action.status == ActionItem.Status.DONE
    assert "Enrol in the mentoring programme" not in member.get(f"/app/mdt/meetings/{nxt.pk}/").content.decode()
    assert "No open action item" in member.get("/app/mdt/action-items/").content.decode()


def test_others_cannot_close_an_item_or_record_at_another_teams_meeting(people, star, dream, web, frozen):
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    item = meeting.items.get()
    dreamer = web(people.dream_member)
    assert dreamer.get(f"/app/mdt/meetings/{meeting.pk}/session/").status_code == 404
    assert (
        dreamer.post(
            f"/app/mdt/meetings/{meeting.pk}/items/{item.pk}/review/", {f"r{item.pk}-summary": "x"}
        ).status_code
        == 404
    )
    draft = schedule(star, people.star_coordinator, starts_at=NEXT_WEEK + dt.timedelta(days=7))
    assert web(people.da_member).get(f"/app/mdt/meetings/{draft.pk}/session/").status_code == 409
    for person in (people.agency_admin, people.auditor):
        assert web(person).get("/app/mdt/action-items/").status_code == 404
        assert web(person).get("/app/mdt/calendar/").status_code == 404


def test_my_action_items_audit_as_the_api_list(people, star, web, as_user, frozen):
    from mdt.services.action_items import action_item_create

    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="call",
        assignee=people.da_member,
        agency=people.da,
        due_at=NEXT_WEEK,
        actor=people.star_coordinator,
    )
    member = people.da_member
    page = _events_of(lambda: web(member).get("/app/mdt/action-items/"))
    api = _events_of(lambda: as_user(member).get(f"/api/v1/action-items/?assignee={member.pk}&status=open"))
    assert page == api and page


def test_the_calendar_feed_is_created_shown_once_and_rotated(people, web, client):
    member = web(people.da_member)
    assert "Create my feed address" in member.get("/app/mdt/calendar/").content.decode()
    first = member.post("/app/mdt/calendar/").content.decode()
    url = first.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    path = url.split("://", 1)[-1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    assert "Rotate the address" in member.get("/app/mdt/calendar/").content.decode()
    assert 'id="feed-url"' not in member.get("/app/mdt/calendar/").content.decode()
    member.post("/app/mdt/calendar/")
    assert client.get("/" + path).status_code == 404
