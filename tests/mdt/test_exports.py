"""Agenda exports (SPEC §4): the printable PDF, the meeting's iCalendar event and the personal
calendar feeds."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from audit.models import AuditEvent
from mdt import exports, selectors
from mdt.models import CalendarFeed
from mdt.services.meetings import meeting_cancel, meeting_update
from mdt.services.teams import team_member_remove
from tests.mdt.factories import CaseFactory, SafetyAlertFactory
from tests.mdt.support import NEXT_WEEK, published_meeting, schedule

pytestmark = pytest.mark.django_db


def pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_every_page_of_a_long_agenda_carries_the_confidentiality_heading(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given an agenda long enough to run over several pages
    cases = [CaseFactory(court="STAR") for _ in range(12)]
    SafetyAlertFactory(case=cases[7])
    meeting = published_meeting(star, people.star_coordinator, cases)
    # when it is printed
    response = make_client(people.da_member).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf")
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="agenda-star-{meeting.pk}.pdf"'
    assert response["Cache-Control"] == "no-store"
    texts = pages(response.content)
    assert len(texts) > 1
    assert all(exports.CONFIDENTIALITY_HEADING in text for text in texts)
    joined = "\n".join(texts)
    assert all(case.number in joined for case in cases)
    # the alert sits at the top of its case, right under the case line
    block = joined.split(cases[7].number, 1)[1]
    assert block.index("Known exploiter") < block.index("Lead agency")


def test_the_pdf_can_also_be_asked_for_with_an_accept_header(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    response = make_client(people.da_member).get(
        f"/api/v1/mdt/meetings/{meeting.pk}/agenda/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_renderer_fetches_nothing(monkeypatch, people, star, frozen):  # type: ignore[no-untyped-def]
    # given a template that refers to outside resources (as a careless edit might)
    import urllib.request

    opened = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a) or None)
    from weasyprint import HTML

    html = (
        '<html><head><link rel="stylesheet" href="https://cdn.example.com/x.css"></head>'
        '<body><img src="http://169.254.169.254/latest/meta-data/"><img src="file:///etc/passwd">Agenda</body></html>'
    )
    # when it is rendered with the agenda's fetcher
    pdf = HTML(string=html, base_url=None, url_fetcher=exports._refusing_fetcher()).write_pdf()
    # then nothing was fetched and the PDF still renders
    assert opened == []
    assert pdf.startswith(b"%PDF")
    fetcher = exports._refusing_fetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("https://example.com/font.woff")


def test_the_calendar_event_is_utc_with_a_stable_uid_and_no_case_details(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a meeting with a case
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    client = make_client(people.da_member)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/calendar.ics"
    # when it is downloaded twice, then moved, then downloaded again
    first = client.get(url, HTTP_ACCEPT="application/json")  # a calendar whatever the Accept header
    second = client.get(url)
    frozen.shift(dt.timedelta(minutes=5))
    meeting_update(
        meeting=meeting,
        data={"starts_at": NEXT_WEEK + dt.timedelta(hours=1), "ends_at": NEXT_WEEK + dt.timedelta(hours=3)},
        actor=people.star_coordinator,
    )
    moved = client.get(url)
    # then the same bytes while unchanged; the same UID with a higher SEQUENCE after the move
    assert first.status_code == 200
    assert first.content == second.content
    (event_1,) = Calendar.from_ical(first.content).walk("VEVENT")
    (event_2,) = Calendar.from_ical(moved.content).walk("VEVENT")
    assert event_1["UID"] == event_2["UID"] == f"mdt-meeting-{meeting.uid}@safe-harbor.mdt"
    assert event_2["SEQUENCE"] == event_1["SEQUENCE"] + 1
    assert event_2.decoded("DTSTART") == dt.datetime(2026, 3, 11, 17, 0, tzinfo=dt.UTC)
    assert event_2.decoded("DTSTART").tzinfo is not None and b"Z\r\n" in moved.content
    assert str(event_1["SUMMARY"]) == "STAR Court MDT meeting"
    for content in (first.content, moved.content):
        assert case.number.encode() not in content
        assert b"TZID" not in content


def test_a_personal_feed_carries_the_members_meetings_only(people, star, dream, make_client, frozen, settings):  # type: ignore[no-untyped-def]
    # given meetings of both teams (one cancelled) and a STAR member who creates a feed
    case = CaseFactory(court="STAR")
    star_meeting = published_meeting(star, people.star_coordinator, [case])
    cancelled = schedule(star, people.star_coordinator, NEXT_WEEK + dt.timedelta(days=7))
    meeting_cancel(meeting=cancelled, reason="holiday", actor=people.star_coordinator)
    published_meeting(dream, people.dream_coordinator, [])
    client = make_client(people.da_member)
    assert client.get("/api/v1/mdt/calendar-feed/").json() == {
        "active": False,
        "created_at": None,
        "last_used_at": None,
    }
    created = client.post("/api/v1/mdt/calendar-feed/")
    assert created.status_code == 201
    url = created.json()["url"]
    assert url.startswith(f"{settings.HARBOR_BASE_URL}/api/v1/mdt/feeds/") and url.endswith(".ics")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    # only the hash of the secret is stored
    feed = CalendarFeed.objects.get(user=people.da_member)
    assert token not in feed.token_hash and feed.token_hash == selectors.calendar_feed_token_hash(token)
    # when a calendar app (no credentials) fetches it
    anonymous = client.__class__()
    response = anonymous.get(url.removeprefix(settings.HARBOR_BASE_URL))
    # then it lists the member's team's meetings, cancellations marked, and no case details
    assert response.status_code == 200, response.content
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert sorted(str(e["UID"]) for e in events) == sorted(
        f"mdt-meeting-{m.uid}@safe-harbor.mdt" for m in (star_meeting, cancelled)
    )
    assert {str(e["STATUS"]) for e in events} == {"CONFIRMED", "CANCELLED"}
    assert case.number.encode() not in response.content
    assert client.get("/api/v1/mdt/calendar-feed/").json()["active"] is True
    assert AuditEvent.objects.filter(
        actor_id=people.da_member.pk, action="export", object_type="mdt_calendar_feed", detail__via="feed"
    ).exists()


def test_a_feed_url_stops_working_when_rotated_revoked_or_the_user_leaves(people, star, make_client, frozen, settings):  # type: ignore[no-untyped-def]
    published_meeting(star, people.star_coordinator, [])
    client = make_client(people.da_member)
    anonymous = client.__class__()

    def path(response):  # type: ignore[no-untyped-def]
        return response.json()["url"].removeprefix(settings.HARBOR_BASE_URL)

    old = path(client.post("/api/v1/mdt/calendar-feed/"))
    new = path(client.post("/api/v1/mdt/calendar-feed/"))
    assert anonymous.get(old).status_code == 404
    assert anonymous.get(new).status_code == 200
    assert client.delete("/api/v1/mdt/calendar-feed/").status_code == 204
    assert anonymous.get(new).status_code == 404
    again = path(client.post("/api/v1/mdt/calendar-feed/"))
    assert anonymous.get(again).status_code == 200
    # leaving the team empties the feed; deactivation ends it
    team_member_remove(team=star, user_id=people.da_member.pk, actor=people.system_admin)
    assert Calendar.from_ical(anonymous.get(again).content).walk("VEVENT") == []
    people.da_member.is_active = False
    people.da_member.save()
    assert anonymous.get(again).status_code == 404
    assert anonymous.get("/api/v1/mdt/feeds/not-a-real-token.ics").status_code == 404


def test_admins_and_auditors_get_no_feed(people, make_client, frozen):  # type: ignore[no-untyped-def]
    for user in (people.system_admin, people.auditor, people.agency_admin):
        assert make_client(user).post("/api/v1/mdt/calendar-feed/").status_code == 403


def test_the_meetings_ics_links_to_its_agenda_page(people, star, make_client, frozen, settings):  # type: ignore[no-untyped-def]
    from tests.mdt.support import schedule as _schedule

    settings.HARBOR_BASE_URL = "https://harbor.example.invalid"
    meeting = _schedule(star, people.star_coordinator)
    body = make_client(people.star_coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/calendar.ics").content
    text = body.decode().replace("\r\n ", "")
    assert f"URL:https://harbor.example.invalid/mdt/meetings/{meeting.pk}/" in text
