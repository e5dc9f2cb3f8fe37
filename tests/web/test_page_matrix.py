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
    assert {row["page"] for row in ROWS} == set(PAGES) | set(POSTS)
    assert {row["page"] for row in ROWS if row["method"] == "POST"} == set(POSTS)
    for page in [*PAGES, *POSTS]:
        roles = {row["role"] for row in ROWS if row["page"] == page}
        assert roles == {"case_worker", "supervisor", "mdt_member", "agency_admin", "auditor", "anonymous"}, page
    # every case-part write the URLconf has is a page of the matrix
    part_routes = {p.name for p in app_patterns if str(p.name).startswith(PART_ROUTE_PREFIXES)}
    assert part_routes == set(POST_ROUTES.values()), part_routes ^ set(POST_ROUTES.values())


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["method"] == "GET"], ids=lambda r: f"{r['page']}-{r['role']}-{r['scope']}"
)
def test_row(row, people, scopes):
    path = PAGES[row["page"]](scopes[row["scope"]])
    client = Client()
    if row["role"] != "anonymous":
        client.force_login(getattr(people, f"dcfs_{row['role']}"))
    answer = client.get(path)
    assert answer.status_code == int(row["status"]), (path, answer.status_code)
    if answer.status_code in (403, 404):
        assert "text/html" in answer["Content-Type"]


# --- the case page's part writes (issue 15): POSTs ---------------------------------------------------
#
# Scopes: `own` — a DCFS case with the DCFS case worker on its team, `other` — a Probation case
# never shared with DCFS, `shared` — a Probation case shared with DCFS (WIC 18961.7): its DCFS
# supervisor sees it, its parts raised by Probation. Each with a current placement, a referred
# service, a hearing to come, one whose time has come, and an active alert. Each row's POST is
# sent with what the form takes, and undone after (a savepoint), so one page's rows share one
# world; 302 is the POST-redirect of a write done.

PART_ROUTE_PREFIXES = ("case-placement", "case-service", "case-hearing", "case-alert")
POST_ROUTES = {
    "placement_add": "case-placement-add",
    "placement_end": "case-placement-end",
    "service_add": "case-service-add",
    "service_status": "case-service-status",
    "hearing_add": "case-hearing-add",
    "hearing_reschedule": "case-hearing-change",
    "hearing_cancel": "case-hearing-change",
    "hearing_outcome": "case-hearing-change",
    "alert_add": "case-alert-add",
    "alert_resolve": "case-alert-resolve",
}


def _when(**delta):  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    return timezone.localtime(timezone.now() + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


POSTS = {
    "placement_add": lambda s: (
        f"/app/cases/{s['case'].pk}/placements/",
        {"placement-placement_type": "shelter", "placement-start_date": "2026-11-25"},
    ),
    "placement_end": lambda s: (
        f"/app/cases/{s['case'].pk}/placements/{s['placement'].pk}/end/",
        {f"end{s['placement'].pk}-end_date": "2026-11-25", f"end{s['placement'].pk}-end_reason": "Reunified."},
    ),
    "service_add": lambda s: (
        f"/app/cases/{s['case'].pk}/services/",
        {"service-provider": "Clinic", "service-kind": "advocacy", "service-referred_at": _when(hours=-1)},
    ),
    "service_status": lambda s: (
        f"/app/cases/{s['case'].pk}/services/{s['service'].pk}/status/",
        {f"svc{s['service'].pk}-status": "accepted"},
    ),
    "hearing_add": lambda s: (
        f"/app/cases/{s['case'].pk}/hearings/",
        {"hearing-starts_at": _when(days=9), "hearing-hearing_type": "Review"},
    ),
    "hearing_reschedule": lambda s: (
        f"/app/cases/{s['case'].pk}/hearings/{s['hearing'].pk}/reschedule/",
        {f"resched{s['hearing'].pk}-starts_at": _when(days=12), f"resched{s['hearing'].pk}-reason": "Judge away."},
    ),
    "hearing_cancel": lambda s: (
        f"/app/cases/{s['case'].pk}/hearings/{s['hearing'].pk}/cancel/",
        {f"cancel{s['hearing'].pk}-reason": "Dismissed."},
    ),
    "hearing_outcome": lambda s: (
        f"/app/cases/{s['case'].pk}/hearings/{s['past_hearing'].pk}/outcome/",
        {f"outcome{s['past_hearing'].pk}-outcome": "Continued."},
    ),
    "alert_add": lambda s: (
        f"/app/cases/{s['case'].pk}/alerts/",
        {"alert-kind": "safety_risk", "alert-summary": "Synthetic"},
    ),
    "alert_resolve": lambda s: (
        f"/app/cases/{s['case'].pk}/alerts/{s['alert'].pk}/resolve/",
        {f"resolve{s['alert'].pk}-reason": "Resolved."},
    ),
}


def _with_parts(case, actor):  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from cases.services import court_hearings as hearing_services
    from cases.services import placements as placement_services
    from cases.services import safety_alerts as alert_services
    from cases.services import service_referrals as service_referral_services

    now = timezone.now()
    return {
        "case": case,
        "placement": placement_services.placement_create(
            case=case, actor=actor, placement_type="relative", start_date=dt.date(2026, 10, 1)
        ),
        "service": service_referral_services.service_referral_create(
            case=case, actor=actor, provider="Center", kind="advocacy", referred_at=now - dt.timedelta(days=1)
        ),
        "hearing": hearing_services.court_hearing_create(
            case=case, actor=actor, starts_at=now + dt.timedelta(days=5), hearing_type="Review"
        ),
        "past_hearing": hearing_services.court_hearing_create(
            case=case, actor=actor, starts_at=now - dt.timedelta(hours=2), hearing_type="Disposition"
        ),
        "alert": alert_services.safety_alert_create(case=case, actor=actor, kind="other", summary="Synthetic"),
    }


@pytest.fixture
def part_scopes(people):  # type: ignore[no-untyped-def]
    from cases.services.cases import case_agency_grant

    own = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    other = open_case(
        people.probation_case_worker,
        people.probation_supervisor,
        youth_data={"first_name": "Ana", "last_name": "Lopez"},
    )
    shared = open_case(
        people.probation_case_worker,
        people.probation_supervisor,
        youth_data={"first_name": "Mia", "last_name": "Reyes"},
    )
    case_agency_grant(
        case=shared, actor=people.probation_supervisor, agency=people.dcfs_supervisor.agency, legal_basis="mdt_18961_7"
    )
    return {
        "own": _with_parts(own, people.dcfs_case_worker),
        "other": _with_parts(other, people.probation_case_worker),
        "shared": _with_parts(shared, people.probation_case_worker),
    }


@pytest.mark.parametrize("page", sorted(POSTS))
def test_post_rows(page, people, part_scopes):
    from django.db import transaction

    wrong = []
    for row in (r for r in ROWS if r["page"] == page):
        path, data = POSTS[page](part_scopes[row["scope"]])
        with transaction.atomic():
            client = Client()
            if row["role"] != "anonymous":
                client.force_login(getattr(people, f"dcfs_{row['role']}"))
            answer = client.post(path, data)
            if answer.status_code != int(row["status"]):
                wrong.append((row["role"], row["scope"], row["status"], answer.status_code))
            elif answer.status_code in (403, 404):
                assert "text/html" in answer["Content-Type"]
            elif answer.status_code == 302 and row["role"] != "anonymous":
                assert answer["Location"].startswith(f"/app/cases/{part_scopes[row['scope']]['case'].pk}/#")
            transaction.set_rollback(True)
    assert wrong == [], wrong
