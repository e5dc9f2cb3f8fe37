"""The MDT story in Chromium (Playwright, axe-core on every page: zero WCAG 2.1 A/AA violations,
no content security policy violation): the STAR coordinator schedules a meeting, adds the
suggested case, orders the agenda with the keyboard and publishes; a STAR member reads it; a
DREAM member gets the 404 page. Kept short (one story)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from mdt.models import Meeting
from tests.mdt.factories import CaseFactory, CourtHearingFactory
from tests.web.test_browser import Person, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_the_mdt_story_in_a_browser(live_server, browser, people, star):  # noqa: F811
    start = timezone.now() + dt.timedelta(days=6)
    suggested, other = CaseFactory(court="STAR"), CaseFactory(court="STAR")
    CourtHearingFactory(case=suggested, starts_at=start + dt.timedelta(days=3))

    coordinator = Person(browser, live_server.url)
    coordinator.go("/app/mdt/")
    coordinator.sign_in("star_coord")
    coordinator.page.wait_for_selector("h1:has-text('My MDT')")
    coordinator.check("mdt-01-my-mdt")
    coordinator.page.click("a:has-text('Schedule a STAR meeting')")
    coordinator.page.fill("#id_starts_at", _local(start))
    coordinator.page.fill("#id_ends_at", _local(start + dt.timedelta(hours=2)))
    coordinator.page.fill("#id_location", "https://video.example/star")
    coordinator.check("mdt-02-schedule")
    coordinator.page.click("button:has-text('Schedule the meeting')")
    coordinator.page.wait_for_selector("h1:has-text('Agenda of STAR meeting')")
    meeting = Meeting.objects.get(team=star)

    # the suggested case, then one added by its id through the same form (the search lands with mdt)
    coordinator.page.click("summary:has-text('Add') >> nth=0")
    coordinator.page.click(f"button:has-text('Add case {suggested.number} to the agenda')")
    coordinator.page.wait_for_selector(f"text=Case {suggested.number} is on the agenda.")
    coordinator.check("mdt-03-builder")
    from mdt.services.agenda import agenda_item_add

    agenda_item_add(meeting=meeting, case_id=other.pk, reason="progress_review", actor=people.star_coordinator)
    coordinator.go(f"/app/mdt/meetings/{meeting.pk}/agenda/")
    # reorder with the keyboard: focus the second row's Move up and press Enter
    coordinator.page.focus(f"button:has-text('Move up'):has-text('{other.number}')")
    coordinator.page.keyboard.press("Enter")
    coordinator.page.wait_for_selector(f"text=Case {other.number} moved up to number 1.")
    assert list(meeting.items.order_by("position").values_list("case_id", flat=True)) == [other.pk, suggested.pk]
    coordinator.page.click("a:has-text('Publish the agenda…')")
    coordinator.page.wait_for_selector("text=Publishing notifies 3 members of STAR")
    coordinator.check("mdt-04-publish")
    coordinator.page.click("button:has-text('Yes, publish and notify the members')")
    coordinator.page.wait_for_url(re.compile(rf".*/app/mdt/meetings/{meeting.pk}/$"))

    member = Person(browser, live_server.url)
    member.go(f"/app/mdt/meetings/{meeting.pk}/")
    member.sign_in("da_member")
    member.page.wait_for_selector(f"h3:has-text('Case {suggested.number}')")
    member.check("mdt-05-agenda")
    with member.page.expect_download() as download:
        member.page.click("a:has-text('Download the agenda (PDF)')")
    assert download.value.suggested_filename.endswith(".pdf")

    dreamer = Person(browser, live_server.url)
    dreamer.go("/app/")
    dreamer.sign_in("dream_member")
    answer = dreamer.page.goto(f"{live_server.url}/app/mdt/meetings/{meeting.pk}/")
    assert answer.status == 404 and dreamer.page.is_visible("h1:has-text('Page not found')")
    dreamer.check("mdt-06-dream-404")
    for person in (coordinator, member, dreamer):
        person.context.close()
