"""The case parts' story in Chromium (Playwright; axe-core with the forms open: zero WCAG 2.1
A/AA violations, no content security policy violation): a DCFS worker on their case starts a
placement, then a new one (the first shows ended), schedules and reschedules a hearing, raises a
safety alert (it shows first on the page) and resolves it. Found by label and role, as a screen
reader would. One story, kept short."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from cases.models import CourtHearing, Placement, SafetyAlert
from tests.cases.factories import open_case
from tests.web.test_browser import Person, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
SCREENSHOT = os.environ.get("HARBOR_WEBFORMS_SHOT", "/tmp/webforms-case.png")


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_a_worker_records_placements_hearings_and_an_alert_on_their_case(live_server, browser, people):  # noqa: F811
    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    path = f"/app/cases/{case.pk}/"
    worker = Person(browser, live_server.url)
    page = worker.page
    worker.go(path)
    worker.sign_in("dcfs_case_worker")
    page.wait_for_url(re.compile(re.escape(live_server.url + path)))

    # a placement, then a new one: the first shows ended, "new placement"
    for kind, start in (("shelter", "2026-11-02"), ("foster_home", "2026-11-20")):
        page.get_by_text("Start a placement…").click()
        form = page.locator("#placement-new")
        form.get_by_label("Type of placement").select_option(kind)
        form.get_by_label("Start date").fill(start)
        if kind == "foster_home":
            # a USWDS checkbox is ticked by its label (the input itself is drawn off-screen)
            form.locator("label[for=id_placement-csec_specialized]").click()
            assert form.get_by_label("CSEC-specialised placement").is_checked()
        form.get_by_role("button", name="Start the placement").click()
        page.wait_for_selector("text=The placement is recorded.")
    first, second = Placement.objects.filter(case=case).order_by("start_date")
    assert first.end_reason == Placement.NEW_PLACEMENT_REASON and second.end_date is None
    # (a USWDS tag is drawn in capitals: its text is compared case-folded)
    row = page.locator(f"#placement-{first.pk}").inner_text().lower()
    assert "— ended" in row and "ended: new placement" in row
    assert "current" in page.locator(f"#placement-{second.pk}").inner_text().lower()

    # a hearing, then rescheduled a week later (Pacific time in, Pacific time shown)
    when = (timezone.localtime() + dt.timedelta(days=10)).replace(hour=9, minute=30, second=0, microsecond=0)
    page.get_by_text("Schedule a hearing…").click()
    form = page.locator("#hearing-new")
    form.get_by_label("Date and time").fill(_local(when))
    form.get_by_label("Type of hearing").fill("Review")
    form.get_by_role("button", name="Schedule the hearing").click()
    page.wait_for_selector("text=The hearing is scheduled.")
    hearing = CourtHearing.objects.get(case=case)
    row = page.locator(f"#hearing-{hearing.pk}")
    assert "9:30 AM" in row.inner_text()
    row.get_by_text("Reschedule…").click()
    row.get_by_label("New date and time").fill(_local(when + dt.timedelta(days=7)))
    row.get_by_label("Why it moved").fill("Judge unavailable.")
    row.get_by_role("button", name="Reschedule the hearing").click()
    page.wait_for_selector("text=The hearing is rescheduled.")
    hearing.refresh_from_db()
    assert hearing.status == "rescheduled" and hearing.starts_at == when + dt.timedelta(days=7)
    assert "rescheduled" in page.locator(f"#hearing-{hearing.pk}").inner_text().lower()

    # a safety alert: it shows first on the page, above the case's heading
    page.get_by_text("Raise a safety alert…").click()
    form = page.locator("#alert-new")
    form.get_by_label("Kind of alert").select_option("known_exploiter")
    form.get_by_label("Summary").fill("Do not disclose the placement.")
    form.get_by_label("Protected detail").fill("Synthetic person of concern.")
    form.get_by_role("button", name="Raise the alert").click()
    page.wait_for_selector("text=The safety alert is raised")
    first_thing = page.evaluate(
        "() => document.querySelector('main h1, main .usa-alert--emergency').classList.contains('usa-alert--emergency')"
    )
    assert first_thing
    assert "Do not disclose the placement." in page.get_by_role("region", name="Safety alert", exact=True).inner_text()

    # the page with its forms open: accessible, and its picture
    page.evaluate("() => document.querySelectorAll('main details').forEach(d => { d.open = true; })")
    worker.check()
    page.screenshot(path=SCREENSHOT, full_page=True)

    # resolved: gone from the top, kept in the history
    alert = SafetyAlert.objects.get(case=case)
    page.reload()
    row = page.locator(f"#alert-{alert.pk}")
    row.get_by_text("Resolve this alert…").click()
    row.get_by_label("Why it is resolved").fill("Person of concern in custody.")
    row.get_by_role("button", name="Resolve the alert").click()
    page.wait_for_selector("text=The safety alert is resolved")
    assert page.get_by_role("region", name="Safety alert", exact=True).count() == 0
    row = page.locator(f"#alert-{alert.pk}").inner_text()
    assert "resolved" in row.lower() and "Person of concern in custody." in row
    worker.check()
    worker.context.close()
