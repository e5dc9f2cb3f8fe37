"""The web app's authorization matrix (page × role × scope → status), in the style of
tests/security/authorization_matrix.csv: every page has its rows in tests/web/page_matrix.csv,
and a page the URLconf has but the matrix lacks fails the completeness check.

Scopes: `own` — a case (and referral) of DCFS, the person's agency, with the DCFS case worker on
its team; `other` — the same of Probation, never shared with DCFS; `none` — a page about no
object. For the MDT pages (issue 16), `own` is a published STAR meeting (and the STAR team): the
DCFS MDT member coordinates STAR, the DCFS case worker and supervisor sit on it; `other` is a
DREAM meeting (and team) none of them sits on. Every person is of DCFS; `anonymous` has no session (sign-in first: 302)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.test import Client

from tests.cases.factories import create_referral, open_case

pytestmark = pytest.mark.django_db
MATRIX = Path(__file__).with_name("page_matrix.csv")
ROWS = list(csv.DictReader(MATRIX.open()))

PAGES = {
    "home": lambda s: "/app/",
    "preferences": lambda s: "/app/preferences/",
    "intake": lambda s: "/app/referrals/new/",
    "find": lambda s: "/app/cases/",
    "case": lambda s: f"/app/cases/{s['case'].pk}/",
    "referral": lambda s: f"/app/referrals/{s['referral'].pk}/",
    "referral_accept": lambda s: f"/app/referrals/{s['undecided'].pk}/accept/",
    "mdt": lambda s: "/app/mdt/",
    "mdt_schedule": lambda s: f"/app/mdt/teams/{s['team'].pk}/schedule/",
    "mdt_meeting": lambda s: f"/app/mdt/meetings/{s['meeting'].pk}/",
    "mdt_agenda_pdf": lambda s: f"/app/mdt/meetings/{s['meeting'].pk}/agenda.pdf",
    "mdt_meeting_ics": lambda s: f"/app/mdt/meetings/{s['meeting'].pk}/calendar.ics",
    "mdt_builder": lambda s: f"/app/mdt/meetings/{s['draft'].pk}/agenda/",
    "mdt_publish": lambda s: f"/app/mdt/meetings/{s['draft'].pk}/publish/",
    "mdt_session": lambda s: f"/app/mdt/meetings/{s['meeting'].pk}/session/",
    "mdt_action_items": lambda s: "/app/mdt/action-items/",
    "mdt_calendar": lambda s: "/app/mdt/calendar/",
    # reports (issue 17): analysts and system admins are in tests/web/test_reports_page.py
    "reports": lambda s: "/app/reports/",
    "report": lambda s: "/app/reports/frp-timeliness/",
    "report_csv": lambda s: "/app/reports/frp-timeliness/csv/",
    "caseload_csv": lambda s: "/app/reports/caseload.csv",
}


def _mdt_scopes(people):  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from mdt.bootstrap import run as bootstrap_run
    from mdt.models import MDTTeam
    from mdt.services.meetings import meeting_publish, meeting_schedule
    from mdt.services.teams import team_member_add

    bootstrap_run()
    star, dream = MDTTeam.objects.get(code="STAR"), MDTTeam.objects.get(code="DREAM")
    admin = people.system_admin
    team_member_add(team=star, user=people.dcfs_mdt_member, is_coordinator=True, actor=admin)
    team_member_add(team=star, user=people.dcfs_case_worker, actor=admin)
    team_member_add(team=star, user=people.dcfs_supervisor, actor=admin)
    team_member_add(team=dream, user=people.probation_mdt_member, is_coordinator=True, actor=admin)
    start = timezone.now() + dt.timedelta(days=7)

    def meeting(team, coordinator, publish):  # type: ignore[no-untyped-def]
        m = meeting_schedule(
            team=team, starts_at=start, ends_at=start + dt.timedelta(hours=2), location="Room 1", actor=coordinator
        )[0]
        return meeting_publish(meeting=m, actor=coordinator) if publish else m

    return (
        {
            "team": star,
            "meeting": meeting(star, people.dcfs_mdt_member, True),
            "draft": meeting(star, people.dcfs_mdt_member, False),
        },
        {
            "team": dream,
            "meeting": meeting(dream, people.probation_mdt_member, True),
            "draft": meeting(dream, people.probation_mdt_member, False),
        },
    )


@pytest.fixture
def scopes(people):  # type: ignore[no-untyped-def]
    own = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    other = open_case(
        people.probation_case_worker,
        people.probation_supervisor,
        youth_data={"first_name": "Ana", "last_name": "Lopez"},
    )
    mdt_own, mdt_other = _mdt_scopes(people)
    return {
        "own": {
            **mdt_own,
            "case": own,
            "referral": own.referrals.get(),
            "undecided": create_referral(people.dcfs_case_worker, receiving_agency=people.dcfs_supervisor.agency),
        },
        "other": {
            **mdt_other,
            "case": other,
            "referral": other.referrals.get(),
            "undecided": create_referral(
                people.probation_case_worker,
                receiving_agency=people.probation_supervisor.agency,
                youth_data={"first_name": "Mia", "last_name": "Reyes"},
            ),
        },
        "none": {},
    }


def test_every_page_has_its_rows_and_every_row_a_page():
    from web.urls import app_patterns

    get_pages = {"", "preferences/", "referrals/new/", "cases/", "cases/<int:pk>/", "referrals/<int:pk>/"}
    routes = {str(p.pattern) for p in app_patterns}
    assert get_pages <= routes
    assert {row["page"] for row in ROWS} == set(PAGES)
    for page in PAGES:
        roles = {row["role"] for row in ROWS if row["page"] == page}
        assert roles == {"case_worker", "supervisor", "mdt_member", "agency_admin", "auditor", "anonymous"}, page


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['page']}-{r['role']}-{r['scope']}")
def test_row(row, people, scopes):
    path = PAGES[row["page"]](scopes[row["scope"]])
    client = Client()
    if row["role"] != "anonymous":
        client.force_login(getattr(people, f"dcfs_{row['role']}"))
    answer = client.get(path)
    assert answer.status_code == int(row["status"]), (path, answer.status_code)
    if answer.status_code in (403, 404):
        assert "text/html" in answer["Content-Type"]
