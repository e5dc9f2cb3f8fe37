"""The MDT story in Chromium (Playwright, axe-core on every page: zero WCAG 2.1 A/AA violations,
no content security policy violation), every step through the pages: the STAR coordinator
schedules next Tuesday's meeting, adds the suggested case, finds two cases by number (one of
them already on the agenda) and adds the other, orders the agenda with the keyboard and
publishes; a STAR member reads it and downloads the PDF; a DREAM member gets the 404 page. In the
meeting the coordinator records attendance, a review and an action item for the case's DCFS
social worker (on the case's team, not on the MDT), and finalises the minutes after the
confirmation. The coordinator builds and publishes the week after's agenda: it carries the open
item forward. The worker sees the item on their home page and marks it done; the next agenda no
longer carries it. Kept to one story."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.services.cases import case_team_member_add
from core.permissions import Role
from mdt.models import ActionItem, Attendance, Meeting, TeamMembership
from tests.factories import UserFactory
from tests.mdt.factories import CaseFactory, CourtHearingFactory
from tests.web.test_browser import Person, browser  # noqa: F401  (fixture)
from web.templatetags.web_tags import pacific

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PACIFIC = ZoneInfo("America/Los_Angeles")
ACTION = "Call the school about re-enrolment"


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _tuesday_after(day: dt.date, at: dt.time = dt.time(9, 0)) -> dt.datetime:
    """9:00 Pacific on the first Tuesday after `day` (a week on when `day` is a Tuesday)."""
    ahead = (1 - day.weekday()) % 7 or 7
    return dt.datetime.combine(day + dt.timedelta(days=ahead), at, tzinfo=PACIFIC)


def _schedule(coordinator: Person, start: dt.datetime) -> None:
    """From My MDT, the schedule form filled for a two-hour STAR meeting (not yet sent)."""
    coordinator.go("/app/mdt/")
    coordinator.page.click("a:has-text('Schedule a STAR meeting')")
    coordinator.page.fill("#id_starts_at", _local(start))
    coordinator.page.fill("#id_ends_at", _local(start + dt.timedelta(hours=2)))
    coordinator.page.fill("#id_location", "https://video.example/star")


def _find(coordinator: Person, number: str) -> None:
    coordinator.page.fill("#id_number", number)
    coordinator.page.click("#find button:has-text('Find')")
    coordinator.page.wait_for_selector("#found-heading")


def _publish(coordinator: Person, meeting: Meeting, shot: str | None = None) -> None:
    coordinator.page.click("a:has-text('Publish the agenda…')")
    coordinator.page.wait_for_selector("text=Publishing notifies 3 members of STAR")
    coordinator.check(shot)
    coordinator.page.click("button:has-text('Yes, publish and notify the members')")
    coordinator.page.wait_for_url(re.compile(rf".*/app/mdt/meetings/{meeting.pk}/$"))


def _open_actions_on_agenda(person: Person, item_id: int) -> str:
    """The "Open action items" of one case on the agenda as members read it."""
    article = person.page.locator(f"#item-{item_id}")
    return article.locator("h4:has-text('Open action items') + *").inner_text()


def test_the_mdt_story_in_a_browser(live_server, browser, people, star):  # noqa: F811
    start = _tuesday_after(timezone.localdate())
    following = _tuesday_after(start.date())
    dcfs = people.agencies["DCFS"]
    # the suggested case is DCFS's, with its social worker on the case's team (on no MDT team)
    suggested = CaseFactory(court="STAR", lead_agency=dcfs)
    other = CaseFactory(court="STAR")
    CourtHearingFactory(case=suggested, starts_at=start + dt.timedelta(days=3))
    social_worker = UserFactory(
        username="dcfs_sw", agency=dcfs, role=Role.CASE_WORKER, first_name="Sam", last_name="Rivera"
    )
    case_team_member_add(
        case=suggested,
        actor=UserFactory(username="dcfs_sup", agency=dcfs, role=Role.SUPERVISOR),
        user=social_worker,
        case_role="social_worker",
    )
    assert not TeamMembership.objects.filter(user=social_worker).exists()

    # 1. the coordinator schedules next Tuesday's meeting
    coordinator = Person(browser, live_server.url)
    coordinator.go("/app/mdt/")
    coordinator.sign_in("star_coord")
    coordinator.page.wait_for_selector("h1:has-text('My MDT')")
    coordinator.check("mdt-01-my-mdt")
    _schedule(coordinator, start)
    coordinator.check("mdt-02-schedule")
    coordinator.page.click("button:has-text('Schedule the meeting')")
    coordinator.page.wait_for_selector("h1:has-text('Agenda of STAR meeting')")
    meeting = Meeting.objects.get(team=star)
    assert meeting.starts_at == start and timezone.localtime(meeting.starts_at).weekday() == 1

    # … adds the suggested case (a hearing within 14 days of the meeting) …
    suggestions = coordinator.page.locator("#suggestions")
    assert suggested.number in suggestions.inner_text() and other.number not in suggestions.inner_text()
    coordinator.page.click(f"#suggestions summary:has-text('{suggested.number}')")
    coordinator.page.click(f"button:has-text('Add case {suggested.number} to the agenda')")
    coordinator.page.wait_for_selector(f"text=Case {suggested.number} is on the agenda.")
    coordinator.check("mdt-03-builder")

    # … finds two cases by number: the other by part of its number, added from what is found; the
    # suggested one by its whole number, found already on the agenda
    _find(coordinator, other.number[-6:])
    found = coordinator.page.locator("#find table tbody tr")
    assert found.count() == 1 and other.number in found.inner_text()
    coordinator.check("mdt-04-find")
    coordinator.page.click(f"#find summary:has-text('{other.number}')")
    coordinator.page.select_option(f"#reason-{other.pk}", "progress_review")
    coordinator.page.click(f"button:has-text('Add case {other.number} to the agenda')")
    coordinator.page.wait_for_selector(f"text=Case {other.number} is on the agenda.")
    _find(coordinator, suggested.number)
    row = coordinator.page.locator(f"#find table tbody tr:has-text('{suggested.number}')")
    assert "On the agenda" in row.inner_text()
    assert list(meeting.items.order_by("position").values_list("case_id", flat=True)) == [suggested.pk, other.pk]

    # … orders it with the keyboard (focus the second row's Move up, press Enter) and publishes
    coordinator.page.focus(f"button:has-text('Move up'):has-text('{other.number}')")
    coordinator.page.keyboard.press("Enter")
    coordinator.page.wait_for_selector(f"text=Case {other.number} moved up to number 1.")
    assert list(meeting.items.order_by("position").values_list("case_id", flat=True)) == [other.pk, suggested.pk]
    _publish(coordinator, meeting, "mdt-05-publish")

    # 2. a STAR member reads the agenda and downloads the PDF
    member = Person(browser, live_server.url)
    member.go(f"/app/mdt/meetings/{meeting.pk}/")
    member.sign_in("da_member")
    member.page.wait_for_selector(f"h3:has-text('2. Case {suggested.number}')")
    assert member.page.is_visible(f"h3:has-text('1. Case {other.number}')")
    member.check("mdt-06-agenda")
    with member.page.expect_download() as download:
        member.page.click("a:has-text('Download the agenda (PDF)')")
    assert download.value.suggested_filename.endswith(".pdf")

    # 3. a DREAM member gets the 404 page for it
    dreamer = Person(browser, live_server.url)
    dreamer.go("/app/")
    dreamer.sign_in("dream_member")
    answer = dreamer.page.goto(f"{live_server.url}/app/mdt/meetings/{meeting.pk}/")
    assert answer.status == 404 and dreamer.page.is_visible("h1:has-text('Page not found')")
    dreamer.check("mdt-07-dream-404")

    # 4. in the meeting: attendance, a review, and an action item for the case's social worker
    item = meeting.items.get(case=suggested)
    coordinator.page.click("a:has-text('The meeting in progress')")
    coordinator.page.wait_for_selector("h1:has-text('in progress')")
    marks = ((people.star_coordinator, "Present"), (people.da_member, "Present"), (people.dmh_clinician, "Absent"))
    for person, mark in marks:
        legend = f"{person.get_full_name()} ({person.agency.code})"
        coordinator.page.click(f"#attendance fieldset:has(legend:has-text('{legend}')) label:has-text('{mark}')")
    coordinator.page.click("button:has-text('Record attendance')")
    coordinator.page.wait_for_selector("text=Attendance is recorded for 3 people.")
    assert dict(Attendance.objects.filter(meeting=meeting).values_list("user_id", "present")) == {
        people.star_coordinator.pk: True,
        people.da_member.pk: True,
        people.dmh_clinician.pk: False,
    }

    coordinator.page.fill(f"#id_r{item.pk}-summary", "Stable placement; missing school since the move.")
    coordinator.page.fill(f"#id_r{item.pk}-decisions", "DCFS to follow up with the school.")
    coordinator.page.click(f"button:has-text('Record the review'):has-text('{suggested.number}')")
    coordinator.page.wait_for_selector(f"text=The review of case {suggested.number} is recorded.")
    assert "Current (version 1)" in coordinator.page.locator(f"#item-{item.pk}").inner_text()

    assignee = f"#id_a{item.pk}-assignee"
    offered = coordinator.page.locator(f"{assignee} option").all_inner_texts()
    assert "Sam Rivera (DCFS)" in offered and "Dana Attorney (DA)" in offered
    due = dt.datetime.combine(start.date() + dt.timedelta(days=5), dt.time(17, 0), tzinfo=PACIFIC)
    coordinator.page.fill(f"#id_a{item.pk}-description", ACTION)
    coordinator.page.select_option(assignee, label="Sam Rivera (DCFS)")
    coordinator.page.fill(f"#id_a{item.pk}-due_at", _local(due))
    coordinator.page.click(f"button:has-text('Add the action item'):has-text('{suggested.number}')")
    coordinator.page.wait_for_selector(f"text=The action item for case {suggested.number} is recorded.")
    action = ActionItem.objects.get(case=suggested)
    assert (action.assignee, action.agency, action.due_at, action.status) == (
        social_worker,
        dcfs,
        due,
        ActionItem.Status.OPEN,
    )
    recorded = coordinator.page.locator(f"#item-{item.pk}").inner_text()
    assert f"{ACTION} — Sam Rivera (DCFS), due {pacific(due)}, open" in recorded
    coordinator.check("mdt-08-session")

    # … and finalises the minutes, after the confirmation: the meeting is locked
    coordinator.page.fill("#id_minutes", "Met; one case reviewed, one action item.")
    coordinator.page.click("button:has-text('Finalise the minutes…')")
    coordinator.page.wait_for_selector("text=This locks the meeting")
    coordinator.check("mdt-09-finalise-confirm")
    coordinator.page.click("button:has-text('Yes, finalise and lock the meeting')")
    coordinator.page.wait_for_selector("text=The minutes are final: the meeting is locked.")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.MINUTES_FINAL
    record = coordinator.page.inner_text("main")
    assert "Dana Attorney (DA): present" in record and "Record attendance" not in record
    coordinator.check("mdt-10-the-record")

    # the week after's meeting: the coordinator finds the case by number and publishes; the open
    # item is carried forward on its agenda
    _schedule(coordinator, following)
    coordinator.page.click("button:has-text('Schedule the meeting')")
    coordinator.page.wait_for_selector("h1:has-text('Agenda of STAR meeting')")
    nxt = Meeting.objects.get(team=star, starts_at=following)
    _find(coordinator, suggested.number)
    coordinator.page.click(f"#find summary:has-text('{suggested.number}')")
    coordinator.page.click(f"button:has-text('Add case {suggested.number} to the agenda')")
    coordinator.page.wait_for_selector(f"text=Case {suggested.number} is on the agenda.")
    _publish(coordinator, nxt)
    next_item = nxt.items.get(case=suggested)
    member.go(f"/app/mdt/meetings/{nxt.pk}/")
    carried = _open_actions_on_agenda(member, next_item.pk)
    assert ACTION in carried and f"carried forward from M-{meeting.pk}" in carried, carried
    member.check("mdt-11-next-agenda-carried")

    # 5. the worker sees the item on their home page, with case number and due date, and marks it done
    worker = Person(browser, live_server.url)
    worker.go("/app/")
    worker.sign_in("dcfs_sw")
    worker.page.wait_for_selector("h2:has-text('My MDT action items')")
    row = worker.page.locator(f"#action-{action.pk}")
    cells = row.locator("td").all_inner_texts()
    assert cells[:2] == [ACTION, suggested.number] and cells[3].startswith(pacific(due)), cells
    assert row.locator("time").get_attribute("datetime") == due.astimezone(dt.UTC).isoformat()
    assert cells[2] == f"STAR M-{meeting.pk}", cells
    # every link in the row opens for the worker (who is on the case's team, not on STAR)
    for href in row.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert worker.context.request.get(live_server.url + href).status == 200, href
    worker.check("mdt-12-worker-home")
    row.locator("button:has-text('Mark done')").click()
    worker.page.wait_for_selector(f"text=The action item for case {suggested.number} is done.")
    assert worker.page.locator(f"#action-{action.pk}").count() == 0
    assert not worker.page.is_visible("h2:has-text('My MDT action items')")
    action.refresh_from_db()
    assert action.status == ActionItem.Status.DONE
    worker.check()
    worker.go("/app/mdt/action-items/")
    worker.page.wait_for_selector("text=No open action item is assigned to you.")
    worker.check("mdt-13-worker-action-items")

    # 6. the next agenda no longer carries it
    member.go(f"/app/mdt/meetings/{nxt.pk}/")
    carried = _open_actions_on_agenda(member, next_item.pk)
    assert carried.strip() == "None." and ACTION not in member.page.inner_text("main"), carried
    member.check("mdt-14-next-agenda")
    for person in (coordinator, member, dreamer, worker):
        person.context.close()
