"""Every list endpoint's query count is pinned, and the same with 1 row as with 50."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.services import cases as case_services
from cases.services import court_hearings as hearing_services
from cases.services import missing_episodes as episode_services
from cases.services import notes as note_services
from cases.services import placements as placement_services
from cases.services import safety_alerts as alert_services
from cases.services import service_referrals as service_referral_services
from tests.factories import AgencyFactory, UserFactory

from .factories import create_referral, create_youth, open_case

pytestmark = pytest.mark.django_db


def _case(people):  # type: ignore[no-untyped-def]
    """A DCFS case whose team is just the DCFS supervisor (who also created the referral)."""
    return open_case(people.dcfs_supervisor, people.dcfs_supervisor)


def build_youth(people, n):  # type: ignore[no-untyped-def]
    for i in range(n):
        create_youth(people.dcfs_supervisor, first_name=f"Youth{i}")
    return "/api/v1/youth/"


def build_referrals(people, n):  # type: ignore[no-untyped-def]
    for i in range(n):
        create_referral(people.dcfs_supervisor, youth_data={"first_name": f"Youth{i}"})
    return "/api/v1/referrals/"


def build_cases(people, n):  # type: ignore[no-untyped-def]
    for i in range(n):
        open_case(people.dcfs_supervisor, people.dcfs_supervisor, youth_data={"first_name": f"Youth{i}"})
    return "/api/v1/cases/"


def build_team(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n - 1):
        user = UserFactory(username=f"sw{i}", agency=people.dcfs_supervisor.agency, role="case_worker")
        case_services.case_team_member_add(
            case=case, actor=people.dcfs_supervisor, user=user, case_role="social_worker"
        )
    return f"/api/v1/cases/{case.pk}/team/"


def build_agencies(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n - 1):
        case_services.case_agency_grant(
            case=case, actor=people.dcfs_supervisor, agency=AgencyFactory(code=f"AGX{i}"), legal_basis="mdt_18961_7"
        )
    return f"/api/v1/cases/{case.pk}/agencies/"


def build_notes(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n):
        note_services.case_note_add(case=case, actor=people.dcfs_supervisor, body=f"note {i}", visibility="team")
    return f"/api/v1/cases/{case.pk}/notes/"


def build_episodes(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    now = timezone.now()
    for i in range(n):
        episode_services.missing_episode_create(
            case=case,
            actor=people.dcfs_supervisor,
            missing_since=now - dt.timedelta(days=i + 1),
            learned_at=now - dt.timedelta(days=i),
        )
    return f"/api/v1/cases/{case.pk}/missing-episodes/"


def build_placements(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n):
        placement_services.placement_create(
            case=case,
            actor=people.dcfs_supervisor,
            placement_type="shelter",
            address=f"{i} Synthetic St",
            start_date=dt.date(2026, 1, 1) + dt.timedelta(days=i),
        )
    return f"/api/v1/cases/{case.pk}/placements/"


def build_services(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n):
        service_referral_services.service_referral_create(
            case=case, actor=people.dcfs_supervisor, provider=f"P{i}", referred_at=timezone.now()
        )
    return f"/api/v1/cases/{case.pk}/services/"


def build_hearings(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n):
        hearing_services.court_hearing_create(
            case=case,
            actor=people.dcfs_supervisor,
            starts_at=timezone.now() + dt.timedelta(days=i),
            hearing_type="review",
        )
    return f"/api/v1/cases/{case.pk}/hearings/"


def build_alerts(people, n):  # type: ignore[no-untyped-def]
    case = _case(people)
    for i in range(n):
        alert_services.safety_alert_create(
            case=case, actor=people.dcfs_supervisor, kind="safety_risk", summary=f"a{i}", protected_detail="x"
        )
    return f"/api/v1/cases/{case.pk}/alerts/"


def _full_case(people, n):  # type: ignore[no-untyped-def]
    """A case with n of every kind of part (and n team members, n agencies)."""
    case = _case(people)
    now = timezone.now()
    sup = people.dcfs_supervisor
    for i in range(n):
        note_services.case_note_add(case=case, actor=sup, body=f"note {i}", visibility="team")
        episode_services.missing_episode_create(
            case=case,
            actor=sup,
            missing_since=now - dt.timedelta(days=i + 1),
            learned_at=now - dt.timedelta(days=i),
            returned_at=now,
        )
        placement_services.placement_create(
            case=case,
            actor=sup,
            placement_type="shelter",
            address="x",
            start_date=dt.date(2026, 1, 1),
            end_date=dt.date(2026, 1, 2),
        )
        service_referral_services.service_referral_create(case=case, actor=sup, provider=f"P{i}", referred_at=now)
        hearing_services.court_hearing_create(
            case=case, actor=sup, starts_at=now + dt.timedelta(days=i), hearing_type="review"
        )
        alert_services.safety_alert_create(
            case=case, actor=sup, kind="safety_risk", summary=f"a{i}", protected_detail="x"
        )
        if i:
            user = UserFactory(username=f"tm{i}", agency=sup.agency, role="case_worker")
            case_services.case_team_member_add(case=case, actor=sup, user=user, case_role="social_worker")
            case_services.case_agency_grant(
                case=case, actor=sup, agency=AgencyFactory(code=f"AGT{i}"), legal_basis="mdt_18961_7"
            )
    return case


def build_timeline(people, n):  # type: ignore[no-untyped-def]
    return f"/api/v1/cases/{_full_case(people, n).pk}/timeline/"


def build_history(people, n):  # type: ignore[no-untyped-def]
    return f"/api/v1/cases/{_full_case(people, n).pk}/history/"


# (builder, pinned query count). The count covers token authentication (2), the page count, the
# page and the one audit event (its id drawn first so its MAC covers it, then the INSERT); nested
# lists add the visibility-scoped case look-up; the timeline
# and history add one query per kind of part (never one per row).
ENDPOINTS = {
    "youth": (build_youth, 6),
    "referrals": (build_referrals, 6),
    "cases": (build_cases, 6),
    "team": (build_team, 7),
    "agencies": (build_agencies, 7),
    "notes": (build_notes, 7),
    "missing-episodes": (build_episodes, 7),
    "placements": (build_placements, 7),
    "services": (build_services, 7),
    "hearings": (build_hearings, 7),
    "alerts": (build_alerts, 7),
    "timeline": (build_timeline, 14),
    "history": (build_history, 17),
}


def count_queries(client, path):  # type: ignore[no-untyped-def]
    client.get(path)  # warm the token's refresh
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.json()
    return len(ctx), response.json()


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_list_query_count_is_pinned_and_independent_of_rows(people, as_user, endpoint, rows):
    # given
    build, pinned = ENDPOINTS[endpoint]
    path = build(people, rows)
    client = as_user(people.dcfs_supervisor)
    # when
    queries, body = count_queries(client, path)
    # then
    assert len(body["results"]) >= rows
    assert queries == pinned
