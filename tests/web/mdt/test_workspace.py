"""The MDT workspace pages (issue 16) through the Django test client, as the people use them: My
MDT, scheduling (never in the past), the agenda builder (suggestions, add, reorder, remove,
publish), the agenda as members read it and its downloads — and the abuse cases: a DREAM member
gets the 404 page, a STAR member who does not coordinate gets the 403 page for building."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mdt.models import AgendaItem, Meeting
from notifications.models import Notification
from tests.mdt.factories import YOUTH_FIRST_NAME, CaseFactory, CourtHearingFactory, NoteFactory, SafetyAlertFactory
from tests.mdt.support import NEXT_WEEK, add, published_meeting, schedule

pytestmark = pytest.mark.django_db


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_my_mdt_lists_the_members_teams_and_meetings(people, star, dream, web, frozen):
    upcoming = schedule(star, people.star_coordinator)
    other = schedule(dream, people.dream_coordinator)
    page = web(people.da_member).get("/app/mdt/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "STAR" in body and f"/app/mdt/meetings/{upcoming.pk}/" in body
    assert f"/app/mdt/meetings/{other.pk}/" not in body
    assert f"/app/mdt/meetings/{upcoming.pk}/calendar.ics" in body
    assert f"/app/mdt/meetings/{upcoming.pk}/agenda.pdf" not in body  # not published yet
    assert "Schedule a STAR meeting" not in body
    assert "Schedule a STAR meeting" in web(people.star_coordinator).get("/app/mdt/").content.decode()


def test_the_roles_that_never_sit_on_a_team_get_404(people, web):
    for person in (people.agency_admin, people.auditor):
        answer = web(person).get("/app/mdt/")
        assert answer.status_code == 404 and "text/html" in answer["Content-Type"]


def test_scheduling_a_meeting(people, star, web):
    start = timezone.now() + dt.timedelta(days=6)
    answer = web(people.star_coordinator).post(
        f"/app/mdt/teams/{star.pk}/schedule/",
        {
            "starts_at": _local(start),
            "ends_at": _local(start + dt.timedelta(hours=2)),
            "location": "https://video.example/star",
        },
    )
    meeting = Meeting.objects.get(team=star)
    assert answer.status_code == 302 and answer["Location"] == f"/app/mdt/meetings/{meeting.pk}/agenda/"
    assert meeting.location == "https://video.example/star"


def test_a_meeting_in_the_past_is_refused_at_the_field(people, star, web):
    start = timezone.now() - dt.timedelta(days=1)
    answer = web(people.star_coordinator).post(
        f"/app/mdt/teams/{star.pk}/schedule/",
        {"starts_at": _local(start), "ends_at": _local(start + dt.timedelta(hours=2)), "location": "Room 1"},
    )
    body = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="error-summary"' in body and 'id="id_starts_at-error"' in body and 'aria-invalid="true"' in body
    assert "past" in body
    assert not Meeting.objects.filter(team=star).exists()


def test_the_end_before_the_start_is_refused_at_the_field(people, star, web):
    start = timezone.now() + dt.timedelta(days=3)
    answer = web(people.star_coordinator).post(
        f"/app/mdt/teams/{star.pk}/schedule/",
        {"starts_at": _local(start), "ends_at": _local(start - dt.timedelta(hours=1)), "location": ""},
    )
    assert answer.status_code == 400 and 'id="id_ends_at-error"' in answer.content.decode()


def test_only_coordinators_schedule_and_build(people, star, dream, web, frozen):
    meeting = schedule(star, people.star_coordinator)
    member = web(people.da_member)
    assert member.get(f"/app/mdt/teams/{star.pk}/schedule/").status_code == 403
    assert member.get(f"/app/mdt/meetings/{meeting.pk}/agenda/").status_code == 403
    assert member.post(f"/app/mdt/meetings/{meeting.pk}/publish/").status_code == 403
    dreamer = web(people.dream_member)
    for path in ("", "agenda/", "agenda.pdf", "calendar.ics", "publish/"):
        answer = dreamer.get(f"/app/mdt/meetings/{meeting.pk}/{path}")
        assert answer.status_code == 404 and "Page not found" in answer.content.decode(), path
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


def test_building_and_publishing_the_agenda(people, star, web, frozen):
    coordinator = web(people.star_coordinator)
    meeting = schedule(star, people.star_coordinator)
    suggested = CaseFactory(court="STAR")
    CourtHearingFactory(case=suggested, starts_at=NEXT_WEEK + dt.timedelta(days=3))
    first, second = CaseFactory(court="STAR"), CaseFactory(court="STAR")
    elsewhere = CaseFactory(court="DREAM")

    page = coordinator.get(f"/app/mdt/meetings/{meeting.pk}/agenda/").content.decode()
    assert suggested.number in page.split('id="suggestions-heading"')[1].split('id="find-heading"')[0]
    assert YOUTH_FIRST_NAME not in page

    for case, reason in ((suggested, "court_date"), (first, "progress_review"), (second, "new_referral")):
        answer = coordinator.post(
            f"/app/mdt/meetings/{meeting.pk}/items/",
            {"add-case": case.pk, "add-reason": reason, "add-presenting_agency": "", "add-minutes_allotted": "15"},
        )
        assert answer.status_code == 302, answer.content.decode()[:2000]
    refused = coordinator.post(
        f"/app/mdt/meetings/{meeting.pk}/items/",
        {"add-case": elsewhere.pk, "add-reason": "other", "add-minutes_allotted": "10"},
    )
    assert refused.status_code == 400 and "Not an open case of this team&#x27;s court." in refused.content.decode()

    items = list(meeting.items.order_by("position"))
    assert [i.case_id for i in items] == [suggested.pk, first.pk, second.pk]
    assert items[0].minutes_allotted == 15 and items[0].presenting_agency == suggested.lead_agency

    # reorder: move the last one up, then drag-and-drop's whole order
    assert coordinator.post(f"/app/mdt/meetings/{meeting.pk}/items/{items[2].pk}/move/up/").status_code == 302
    assert list(meeting.items.order_by("position").values_list("case_id", flat=True)) == [
        suggested.pk,
        second.pk,
        first.pk,
    ]
    coordinator.post(
        f"/app/mdt/meetings/{meeting.pk}/items/reorder/", {"items": [items[1].pk, items[0].pk, items[2].pk]}
    )
    assert list(meeting.items.order_by("position").values_list("case_id", flat=True)) == [
        first.pk,
        suggested.pk,
        second.pk,
    ]
    # remove
    assert coordinator.post(f"/app/mdt/meetings/{meeting.pk}/items/{items[2].pk}/remove/").status_code == 302
    assert meeting.items.count() == 2

    # members do not read a draft
    draft = web(people.da_member).get(f"/app/mdt/meetings/{meeting.pk}/").content.decode()
    assert "not published yet" in draft and first.number not in draft

    # publish: the confirmation names whom it notifies
    confirm = coordinator.get(f"/app/mdt/meetings/{meeting.pk}/publish/").content.decode()
    assert "Publishing notifies 3 members of STAR" in confirm and "Dana Attorney" in confirm
    assert coordinator.post(f"/app/mdt/meetings/{meeting.pk}/publish/").status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.PUBLISHED
    notices = Notification.objects.filter(meeting_id=meeting.pk)
    assert notices.filter(recipient=people.da_member).exists()
    assert all(n.link.endswith(f"/app/mdt/meetings/{meeting.pk}/") for n in notices), [n.link for n in notices]


def test_the_agenda_as_members_read_it(people, star, web, frozen):
    case = CaseFactory(court="STAR")
    SafetyAlertFactory(case=case)
    NoteFactory(case=case)
    meeting = published_meeting(star, people.star_coordinator, [case])
    member = web(people.da_member)
    page = member.get(f"/app/mdt/meetings/{meeting.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert case.number in body and "Known exploiter" in body and case.lead_agency.code in body
    assert YOUTH_FIRST_NAME not in body and "Notebody" not in body and "Zebediah" not in body
    pdf = member.get(f"/app/mdt/meetings/{meeting.pk}/agenda.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    ics = member.get(f"/app/mdt/meetings/{meeting.pk}/calendar.ics")
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content and case.number.encode() not in ics.content


def test_a_published_agenda_shows_the_mdt_links_on_my_mdt(people, star, web, frozen):
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    body = web(people.dmh_clinician).get("/app/mdt/").content.decode()
    assert f"/app/mdt/meetings/{meeting.pk}/agenda.pdf" in body
    assert AgendaItem.objects.filter(meeting=meeting).count() == 1
    _ = add
