"""The Reports pages (issue 17, SPEC §9): the API's suppressed tables as pages, a bar chart per
table drawn from the shown numbers only, the CSV downloads, and the API's audit events.

The data, in 2026-Q3: fifteen law-enforcement recoveries referred to DCFS, twelve with responders
on scene within 90 minutes (a count of 12, shown) and three later (3, suppressed), two of them
accepted as cases; and three referred to SHERIFF (never in a DCFS reader's report)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
import time_machine

from accounts.models import Agency
from audit.models import AuditEvent
from cases.models import Referral
from tests.cases.factories import accept_referral, create_referral
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.web.test_browser import Person
from tests.web.test_browser import browser as story_browser  # noqa: F401  (test_browser's fixture)
from tests.web.test_same_reads_as_the_api import _events_of

pytestmark = pytest.mark.django_db

IN_Q3 = dt.datetime(2026, 8, 12, 18, 0, tzinfo=dt.UTC)
LATER = IN_Q3 + dt.timedelta(days=1)
Q3 = {"from": "2026-07-01", "to": "2026-09-30"}
REPORT = "frp-timeliness"


class Texts(HTMLParser):
    """The text of every element carrying one of `classes`, and every `<th scope="row">`."""

    def __init__(self, *classes: str) -> None:
        super().__init__()
        self.classes = set(classes)
        self.stack: list[str | None] = []
        self.found: dict[str, list[str]] = {c: [] for c in (*classes, "row")}

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        attrs = dict(attrs)
        hit = next((c for c in (attrs.get("class") or "").split() if c in self.classes), None)
        if tag == "th" and attrs.get("scope") == "row":
            hit = "row"
        self.stack.append(hit)
        if hit:
            self.found[hit].append("")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        hit = next((h for h in reversed(self.stack) if h), None)
        if hit:
            self.found[hit][-1] += data


def parsed(html: str) -> dict[str, list[str]]:
    texts = Texts("web-count", "web-chart-value")
    texts.feed(html)
    return {k: [v.strip() for v in vs] for k, vs in texts.found.items()}


def numbers(values: list[str]) -> list[int]:
    return [int(n) for v in values for n in re.findall(r"\d+", v)]


def recovery(worker, agency, name: str, arrived_after: int, now: dt.datetime = IN_Q3) -> Referral:  # type: ignore[no-untyped-def]
    """A law-enforcement recovery referred to `agency` three hours before `now`, responders on
    scene `arrived_after` minutes after it (the First Responder Protocol's 90-minute clock)."""
    recovered = now - dt.timedelta(hours=3)
    return create_referral(
        worker,
        receiving_agency=agency,
        youth_data={"first_name": name, "last_name": "Youth"},
        source=Referral.Source.LAW_ENFORCEMENT_RECOVERY,
        indicators=[],
        received_at=recovered,
        recovered_at=recovered,
        responder_arrived_at=recovered + dt.timedelta(minutes=arrived_after),
    )


@pytest.fixture
def reports_data(people):  # type: ignore[no-untyped-def]
    dcfs, sheriff = people.dcfs_supervisor.agency, people.sheriff_supervisor.agency
    with time_machine.travel(IN_Q3, tick=False):
        referrals = [
            recovery(people.dcfs_case_worker, dcfs, f"Rep{chr(97 + i)}", 40 if i < 12 else 100) for i in range(15)
        ]
        for referral in referrals[:2]:
            accept_referral(referral, people.dcfs_supervisor)
        # Twelve, not a small count: the county's and the agencies' tables are suppressed as one
        # system (SPEC §9), so a Sheriff total from 1 to 10 would hide DCFS's 15 as well
        # (county 18 − DCFS 15 would give it back).
        for i in range(12):
            recovery(people.sheriff_case_worker, sheriff, f"Sher{chr(97 + i)}", 40)
    return referrals


@pytest.fixture
def analysts(people):  # type: ignore[no-untyped-def]
    court = Agency.objects.create(code="COURT", name="Court", kind=Agency.Kind.COURT, is_county_wide=True)
    return {
        "dcfs": UserFactory(username="dcfs_analyst", agency=people.dcfs_supervisor.agency, role="analyst"),
        "county": UserFactory(username="court_analyst", agency=court, role="analyst"),
    }


# --- who reads which (the page matrix has the six roles; analysts and system admins here) -----------


def test_a_case_worker_gets_the_404_page_where_the_api_answers_403(people, web):  # type: ignore[no-untyped-def]
    worker = people.dcfs_case_worker
    assert client_for(worker).get(f"/api/v1/reports/{REPORT}/").status_code == 403
    for path in ("/app/reports/", f"/app/reports/{REPORT}/", f"/app/reports/{REPORT}/csv/"):
        answer = web(worker).get(path)
        assert answer.status_code == 404, path
        assert "Page not found" in answer.content.decode()
    assert web(people.dcfs_auditor).get(f"/app/reports/{REPORT}/").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_unknown_report_is_the_404_page(people, web):  # type: ignore[no-untyped-def]
    assert web(people.dcfs_supervisor).get("/app/reports/no-such-report/").status_code == 404
    assert web(people.dcfs_supervisor).get("/app/reports/no-such-report/csv/").status_code == 404


def test_the_list_is_the_apis_list_and_the_nav_links_it_for_readers_only(people, web, analysts):  # type: ignore[no-untyped-def]
    api = client_for(people.dcfs_supervisor).get("/api/v1/reports/").json()["results"]
    page = web(people.dcfs_supervisor).get("/app/reports/").content.decode()
    for report in api:
        assert f'href="/app/reports/{report["name"]}/"' in page
        assert report["title"] in page
    assert 'href="/app/reports/caseload.csv"' in page  # a supervisor exports their caseload too
    assert 'href="/app/reports/"' in page and 'aria-current="page"' in page
    analyst_page = web(analysts["dcfs"]).get("/app/reports/").content.decode()
    assert 'href="/app/reports/caseload.csv"' not in analyst_page  # analysts have no caseload
    assert 'href="/app/reports/"' not in web(people.dcfs_case_worker).get("/app/").content.decode()
    assert 'href="/app/reports/"' in web(analysts["county"]).get("/app/").content.decode()


def test_a_supervisor_sees_their_agencys_tables_with_no_count_from_1_to_10(people, web, reports_data):  # type: ignore[no-untyped-def]
    with time_machine.travel(LATER, tick=False):
        answer = web(people.dcfs_supervisor).get(f"/app/reports/{REPORT}/", Q3)
        api = client_for(people.dcfs_supervisor).get(f"/api/v1/reports/{REPORT}/", Q3).json()
    assert answer.status_code == 200
    html = answer.content.decode()
    found = parsed(html)
    tables = list(api["tables"].values())
    # the tables exactly as the API's JSON gives them
    expected = [
        str(v)
        for table in tables
        for v in [
            *(v for row in table["rows"] for v in [*row["cells"], row["total"]]),
            *table["totals"],
            table["total"],
        ]
    ]
    assert found["web-count"] == expected
    assert found["row"] == [label for table in tables for label in [*(r["row"] for r in table["rows"]), "Total"]]
    assert {label for label in found["row"]} == {"DCFS", "Total"}  # their agency's only
    # shown: counts of 11 or more; suppressed: the three later ones (and what would give them away)
    assert [n for n in numbers(found["web-count"]) if n >= 11] and "<11" in found["web-count"]
    shown = numbers(found["web-count"]) + numbers(found["web-chart-value"])
    assert shown and not [n for n in shown if 1 <= n <= 10]
    assert "&lt;11" in html and "SHERIFF" not in html.split('id="report"')[1]
    # a chart per table: a bar per row whose total is shown, the mark for the others
    rows = [row for table in tables for row in table["rows"]]
    assert found["web-chart-value"] == [str(row["total"]) for row in rows]
    bars = re.findall(r'<rect [^>]*width="(\d+)"', html)
    assert len(bars) == sum(1 for row in rows if isinstance(row["total"], int) and row["total"])
    assert html.count('<svg class="web-chart"') == len(tables) == 2
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert " style=" not in html and "<style" not in html  # CSP: no inline styles
    # the form: Pacific-time quarter dates, no agency choice for an agency's supervisor
    assert 'name="from" value="2026-07-01"' in html and 'name="to" value="2026-09-30"' in html
    assert 'name="agency"' not in html
    assert f'href="/app/reports/{REPORT}/csv/?from=2026-07-01&amp;to=2026-09-30"' in html


def test_a_supervisor_asking_for_another_agency_gets_the_apis_refusal(people, web):  # type: ignore[no-untyped-def]
    params = {**Q3, "agency": "SHERIFF"}
    assert client_for(people.dcfs_supervisor).get(f"/api/v1/reports/{REPORT}/", params).status_code == 403
    answer = web(people.dcfs_supervisor).get(f"/app/reports/{REPORT}/", params)
    assert answer.status_code == 403 and "text/html" in answer["Content-Type"]
    assert web(people.dcfs_supervisor).get(f"/app/reports/{REPORT}/csv/", params).status_code == 403


def test_a_period_that_is_not_a_quarter_is_shown_at_the_form_and_not_audited(people, web):  # type: ignore[no-untyped-def]
    answer = web(people.dcfs_supervisor).get(f"/app/reports/{REPORT}/", {"from": "2026-07-01", "to": "2026-08-31"})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="error-summary"' in html and "Must start a quarter." in html and 'href="#id_from"' in html
    assert 'id="report"' not in html
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_analysts_read_their_agency_or_the_county_and_a_system_admin_the_county(people, web, analysts):  # type: ignore[no-untyped-def]
    dcfs = web(analysts["dcfs"]).get(f"/app/reports/{REPORT}/", Q3)
    assert dcfs.status_code == 200
    assert "2026-Q3, DCFS" in dcfs.content.decode() and 'name="agency"' not in dcfs.content.decode()
    assert web(analysts["dcfs"]).get(f"/app/reports/{REPORT}/", {**Q3, "agency": "SHERIFF"}).status_code == 403

    county = web(analysts["county"]).get(f"/app/reports/{REPORT}/", Q3).content.decode()
    assert "2026-Q3, the county (all agencies)" in county
    assert 'name="agency"' in county and '<option value="SHERIFF">' in county
    sheriff = web(analysts["county"]).get(f"/app/reports/{REPORT}/", {**Q3, "agency": "SHERIFF"})
    assert sheriff.status_code == 200 and "2026-Q3, SHERIFF" in sheriff.content.decode()

    admin = web(people.system_admin).get("/app/reports/csec-identification/", Q3).content.decode()
    assert "2026-Q3, the county (all agencies)" in admin
    assert 'name="by"' in admin  # csec-identification has four breakdowns
    by_court = web(people.system_admin).get("/app/reports/csec-identification/", {**Q3, "by": "court"})
    assert by_court.status_code == 200 and "by court" in by_court.content.decode()


def test_every_report_renders_for_the_county(people, web, reports_data):  # type: ignore[no-untyped-def]
    from reports.catalogue import REPORTS

    with time_machine.travel(LATER, tick=False):
        for name in REPORTS:
            answer = web(people.system_admin).get(f"/app/reports/{name}/", Q3)
            assert answer.status_code == 200, name
            found = parsed(answer.content.decode())
            assert not [n for n in numbers(found["web-count"] + found["web-chart-value"]) if 1 <= n <= 10], name


# --- the CSV downloads ----------------------------------------------------------------------------


def test_the_api_takes_no_session_so_the_csv_is_the_web_views(people, web):  # type: ignore[no-untyped-def]
    """Why the CSV links point at /app/: a signed-in browser's request to the API is refused."""
    answer = web(people.dcfs_supervisor).get(f"/api/v1/reports/{REPORT}/", {**Q3, "format": "csv"})
    assert answer.status_code in (401, 403)
    assert web(people.dcfs_case_worker).get("/api/v1/reports/caseload/").status_code in (401, 403)


def test_the_csv_download_is_the_apis_csv_and_is_audited_as_export(people, web, reports_data):  # type: ignore[no-untyped-def]
    supervisor = people.dcfs_supervisor
    with time_machine.travel(LATER, tick=False):
        answer = web(supervisor).get(f"/app/reports/{REPORT}/csv/", Q3)
        api = client_for(supervisor).get(f"/api/v1/reports/{REPORT}/", {**Q3, "format": "csv"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == f'attachment; filename="{REPORT}-2026-Q3.csv"'
    assert answer["Cache-Control"] == "no-store"
    assert answer.content == api.content
    values = [v for line in answer.content.decode().splitlines() for v in line.split(",")[2:] if v.isdigit()]
    assert "15" in values and not [v for v in values if 1 <= int(v) <= 10]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_type="report").order_by("id")
    page_event = events.first()
    assert page_event.object_id == REPORT and page_event.actor_id == supervisor.pk
    assert page_event.detail["format"] == "csv" and page_event.detail["agency"] == "DCFS"
    # the auditor can tell the web app's download from the API's
    assert [e.detail["via"] for e in events] == ["web", "api"]


def test_export_my_caseload_is_the_apis_csv_for_case_workers_and_supervisors(people, web, reports_data):  # type: ignore[no-untyped-def]
    worker = people.dcfs_case_worker
    answer = web(worker).get("/app/reports/caseload.csv")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == 'attachment; filename="caseload.csv"'
    assert answer.content == client_for(worker).get("/api/v1/reports/caseload/").content
    assert answer.content.decode().splitlines()[0] == "number,status,court,lead_agency,open_deadlines"
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_type="caseload").order_by("id").first()
    assert event.actor_id == worker.pk and event.detail["format"] == "csv" and event.detail["via"] == "web"
    assert web(people.dcfs_supervisor).get("/app/reports/caseload.csv").status_code == 200
    assert web(people.system_admin).get("/app/reports/caseload.csv").status_code == 404


def test_a_case_workers_home_links_the_caseload_export(people, web):  # type: ignore[no-untyped-def]
    """The reports list is not theirs (404), so home's "My cases" is where a worker finds it."""
    home = web(people.dcfs_case_worker).get("/app/").content.decode()
    assert 'href="/app/reports/caseload.csv"' in home
    assert 'href="/app/reports/caseload.csv"' not in web(people.dcfs_mdt_member).get("/app/").content.decode()


# --- the same audit events as the API's reads -----------------------------------------------------


def test_the_pages_audit_what_the_api_reads_audit(people, web, reports_data):  # type: ignore[no-untyped-def]
    supervisor, worker = people.dcfs_supervisor, people.dcfs_case_worker
    with time_machine.travel(LATER, tick=False):
        page = _events_of(lambda: web(supervisor).get(f"/app/reports/{REPORT}/", Q3))
        api = _events_of(lambda: client_for(supervisor).get(f"/api/v1/reports/{REPORT}/", Q3))
        assert page == api == [("export", "report", REPORT, (), None, ())]

        page_csv = _events_of(lambda: web(supervisor).get(f"/app/reports/{REPORT}/csv/", Q3))
        api_csv = _events_of(lambda: client_for(supervisor).get(f"/api/v1/reports/{REPORT}/", {**Q3, "format": "csv"}))
        assert page_csv == api_csv

        assert _events_of(lambda: web(supervisor).get("/app/reports/")) == _events_of(
            lambda: client_for(supervisor).get("/api/v1/reports/")
        )

        caseload_page = _events_of(lambda: web(worker).get("/app/reports/caseload.csv"))
        caseload_api = _events_of(lambda: client_for(worker).get("/api/v1/reports/caseload/"))
        assert caseload_page == caseload_api and caseload_page[0][:2] == ("export", "caseload")


# --- the chart -------------------------------------------------------------------------------------


def test_a_suppressed_total_draws_no_bar():
    from web.views.reports import BAR_SPACE, chart

    table = {
        "columns": ["a"],
        "rows": [
            {"row": "X", "cells": [40], "total": 40},
            {"row": "Y", "cells": [20], "total": 20},
            {"row": "Z", "cells": ["<11"], "total": "<11"},
            {"row": "W", "cells": ["*"], "total": "*"},
            {"row": "V", "cells": [0], "total": 0},
        ],
        "totals": ["*"],
        "total": "*",
    }
    bars = chart(table)["bars"]
    assert [b["width"] for b in bars] == [BAR_SPACE, BAR_SPACE // 2, 0, 0, 0]
    assert [b["value"] for b in bars] == [40, 20, "<11", "*", 0]
    assert [b["suppressed"] for b in bars] == [False, False, True, True, False]


# --- in a real browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_opens_a_report_changes_the_quarter_and_sees_the_chart(live_server, people, request):  # type: ignore[no-untyped-def]
    """Chromium against a live server, axe-core on each page (zero WCAG 2.1 A/AA violations, no
    content security policy violation); the report's full-page screenshot is reports-page.png in
    HARBOR_WEB_SHOTS (HARBOR_WEB_SHOTS=/tmp: /tmp/reports-page.png)."""
    from django.utils import timezone

    from reports.periods import LOCAL, Quarter

    browser = request.getfixturevalue("story_browser")  # Chromium, as tests/web/test_browser.py has it
    now = timezone.now()
    recovered = now - dt.timedelta(hours=3)
    dcfs, sheriff = people.dcfs_supervisor.agency, people.sheriff_supervisor.agency
    for i in range(15):
        recovery(people.dcfs_case_worker, dcfs, f"Live{chr(97 + i)}", 40 if i < 12 else 100, now)
    for i in range(12):  # not a small count: see reports_data
        recovery(people.sheriff_case_worker, sheriff, f"Sher{chr(97 + i)}", 40, now)
    quarter = Quarter.of(timezone.localtime(recovered, LOCAL).date())

    supervisor = Person(browser, live_server.url)
    supervisor.go("/app/")
    supervisor.sign_in("dcfs_supervisor")
    supervisor.page.wait_for_url(f"{live_server.url}/app/")
    supervisor.page.click("nav >> text=Reports")
    supervisor.page.wait_for_url(f"{live_server.url}/app/reports/")
    supervisor.check()
    supervisor.page.click("text=First Responder Protocol timeliness")
    supervisor.page.wait_for_selector("#report")  # the last complete quarter, by default
    supervisor.check()

    # changes the period to the quarter of the referrals, with the form
    supervisor.page.fill("#id_from", quarter.first_day.isoformat())
    supervisor.page.fill("#id_to", quarter.last_day.isoformat())
    supervisor.page.click("button:has-text('Show the report')")
    supervisor.page.wait_for_selector(f"#report-heading:has-text('{quarter.label}, DCFS')")

    # sees the chart: a bar for each shown total, "<11" for a suppressed one, the table beside it
    charts = supervisor.page.locator("svg.web-chart")
    assert charts.count() == 2
    assert supervisor.page.locator("svg.web-chart rect").count() >= 1
    assert supervisor.page.locator("svg.web-chart rect").first.is_visible()
    values = supervisor.page.locator("svg.web-chart text.web-chart-value").all_text_contents()
    counts = supervisor.page.locator("td.web-count").all_inner_texts()
    assert "<11" in counts and [v for v in counts if v.isdigit() and int(v) >= 11]
    assert not [v for v in values + counts if v.isdigit() and 1 <= int(v) <= 10]
    assert "SHERIFF" not in supervisor.page.inner_text("#report")
    supervisor.check("reports-page")

    # the CSV link is the web's download, the API's CSV
    with supervisor.page.expect_download() as download:
        supervisor.page.click("text=Download CSV")
    assert download.value.suggested_filename == f"frp-timeliness-{quarter.label}.csv"
    supervisor.context.close()
