"""The issue's story in a real browser (Playwright driving the system Chromium, against a live
server), with axe-core on every page: zero WCAG 2.1 A/AA violations, and no content security
policy violation. Few and fast: one story, one Probation walk.

Chromium is the Debian package (/usr/bin/chromium, or HARBOR_CHROMIUM); Playwright never
downloads a browser. Outside CI a missing Chromium skips, under CI it fails (like PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from tests.conftest import _require
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
CHROMIUM = os.environ.get("HARBOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("HARBOR_WEB_SHOTS", "/tmp/web-shots"))
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    _require("Chromium", Path(CHROMIUM).exists(), "install the chromium package (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        _require("Playwright", False, "pip install -r requirements-dev.txt")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, one at a time.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Person:
    """One browser context (one person's session), with the page checks every page gets."""

    def __init__(self, browser, base: str):  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base = base
        self.csp_violations: list[str] = []
        self.page.on(
            "console",
            lambda m: self.csp_violations.append(m.text) if "Content Security Policy" in m.text else None,
        )

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def check(self, shot: str | None = None) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page, options={"runOnly": {"type": "tag", "values": WCAG}})
        assert results.violations_count == 0, (self.page.url, results.generate_report())
        assert self.csp_violations == [], self.csp_violations
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)

    def sign_in(self, username: str, password: str = TEST_PASSWORD) -> None:
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button:has-text('Sign in')")


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_the_story_in_a_browser(live_server, browser, people, django_capture_on_commit_callbacks, settings):
    from accounts.services import user_create
    from cases.models import Referral
    from notifications.models import Deadline
    from tests.cases.factories import create_youth

    settings.HARBOR_BASE_URL = live_server.url
    create_youth(people.probation_supervisor)  # Probation already holds the youth's record

    # an agency admin invites a DCFS worker
    with django_capture_on_commit_callbacks(execute=True):
        user_create(
            actor=people.dcfs_agency_admin,
            username="new_worker",
            email="new@example.invalid",
            agency=people.dcfs_case_worker.agency,
            role="case_worker",
        )
    link = re.search(r"(https?://\S+/accounts/set-password/\S+/)", mail.outbox[-1].body).group(1)

    # the worker sets a password from the link and lands home, signed in
    worker = Person(browser, live_server.url)
    worker.page.goto(link)
    worker.check("01-set-password")
    worker.page.fill("#id_new_password1", "a-long-new-password-for-web-77")
    worker.page.fill("#id_new_password2", "a-long-new-password-for-web-77")
    worker.page.click("button:has-text('Set my password')")
    worker.page.wait_for_url(f"{live_server.url}/app/")
    worker.check()

    # logs a referral, with the keyboard only, and sees "held by PROBATION" as the name is typed
    worker.go("/app/referrals/new/")
    worker.page.focus("#id_first_name")
    worker.page.keyboard.type("Jasmine")
    worker.page.keyboard.press("Tab")
    worker.page.keyboard.type("Carter")
    worker.page.keyboard.press("Tab")
    worker.page.fill("#id_date_of_birth", "2010-03-14")
    worker.page.wait_for_selector("#duplicates >> text=A possible match is held by PROBATION")
    worker.page.select_option("#id_source", "school")
    worker.page.focus("#indicator-runaway_or_homeless")
    worker.page.keyboard.press("Space")
    worker.page.fill("#id_hotline_reported_at", _local(timezone.now() - dt.timedelta(hours=1)))
    worker.page.fill("#id_narrative", "Synthetic narrative for the browser test.")
    worker.check("02-intake-duplicate")
    worker.page.click("button:has-text('Log the referral')")
    worker.page.wait_for_selector("text=A possible match is held by PROBATION")
    worker.check("03-referral-logged")
    referral = Referral.objects.get(created_by__username="new_worker")

    # a supervisor screens and accepts
    supervisor = Person(browser, live_server.url)
    supervisor.go("/app/")
    supervisor.check("00-sign-in")
    supervisor.sign_in("dcfs_supervisor")
    supervisor.page.wait_for_selector(f"a[href='/app/referrals/{referral.pk}/']")
    supervisor.check("04-supervisor-home")
    supervisor.page.click(f"a[href='/app/referrals/{referral.pk}/']")
    supervisor.check()
    supervisor.page.click("label[for=id_level_2]")
    supervisor.page.click("button:has-text('Record the screening')")
    supervisor.page.click("a:has-text('Accept…')")
    supervisor.check()
    supervisor.page.click("button:has-text('Yes, accept the referral')")
    supervisor.page.wait_for_url(re.compile(r".*/app/cases/\d+/"))
    referral.refresh_from_db()
    case_path = f"/app/cases/{referral.case_id}/"

    # the worker adds a note and records a missing episode
    worker.go(case_path)
    worker.page.click("label[for=id_visibility_0]")
    worker.page.fill("#id_body", "Met the youth at school.")
    worker.page.click("button:has-text('Add the note')")
    worker.page.wait_for_selector("text=Met the youth at school.")
    worker.page.click("summary:has-text('Record a missing episode')")
    now = timezone.now()
    worker.page.fill("#id_episode-missing_since", _local(now - dt.timedelta(hours=5)))
    worker.page.fill("#id_episode-learned_at", _local(now - dt.timedelta(hours=4)))
    worker.page.click("button:has-text('Record the episode')")
    worker.page.wait_for_selector("text=Still missing.")
    worker.check("05-case-page")

    # the deadlines appear on both homes
    for person, shot in ((worker, "06-worker-home"), (supervisor, None)):
        person.go("/app/")
        person.page.wait_for_selector(f"#deadlines-heading ~ table a[href='{case_path}']")
        person.check(shot)

    # an emailed link opens the case: not signed in, sign in first, land there
    deadline = Deadline.objects.filter(case_id=referral.case_id).first()  # the missing episode's clocks
    assert deadline.link_path.startswith("/app/")
    fresh = Person(browser, live_server.url)
    fresh.go(deadline.link_path)
    fresh.sign_in("new_worker", "a-long-new-password-for-web-77")
    fresh.page.wait_for_url(re.compile(re.escape(live_server.url + deadline.link_path.split("#")[0])))
    assert fresh.page.is_visible("h1:has-text('Case ')")

    # the same pages as a Probation worker: 404s, and nothing hidden anywhere
    probation = Person(browser, live_server.url)
    probation.go("/app/")
    probation.sign_in("probation_case_worker")
    for path in (case_path, f"/app/referrals/{referral.pk}/", "/app/no-such-page/"):
        answer = probation.page.goto(live_server.url + path)
        assert answer.status == 404
        assert probation.page.is_visible("h1:has-text('Page not found')")
        probation.check("07-probation-404" if path == case_path else None)
    for path in ("/app/", "/app/referrals/new/", f"/app/cases/?q={referral.case.number}"):
        probation.go(path)
        probation.check()
        text = probation.page.inner_text("body")
        assert (
            "Jasmine" not in text
            and "Met the youth" not in text
            and referral.case.number not in text.split("Cases found")[-1]
        )
    for person in (worker, supervisor, fresh, probation):
        person.context.close()
