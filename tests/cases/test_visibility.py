"""Who sees which youth, referral, case and part (SPEC §1): 404 for hidden, 403 for roles with
no case access, filters never reveal hidden objects."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from cases.selectors import visibility
from cases.services import cases as case_services
from cases.services import missing_episodes as episode_services

from .factories import create_referral, create_youth, open_case

pytestmark = pytest.mark.django_db

CASE_PART_PATHS = [
    "",
    "team/",
    "agencies/",
    "notes/",
    "missing-episodes/",
    "placements/",
    "services/",
    "hearings/",
    "alerts/",
    "timeline/",
    "history/",
]


@pytest.fixture
def dcfs_case(people):  # type: ignore[no-untyped-def]
    """A Sheriff referral accepted by DCFS, with dcfs_case_worker on the team."""
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    return case


def ids(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_case_workers_see_the_cases_of_their_team_only(people, as_user, dcfs_case):
    assert ids(as_user(people.dcfs_case_worker).get("/api/v1/cases/")) == [dcfs_case.pk]
    assert ids(as_user(people.dcfs_worker2).get("/api/v1/cases/")) == []
    for path in CASE_PART_PATHS:
        assert as_user(people.dcfs_case_worker).get(f"/api/v1/cases/{dcfs_case.pk}/{path}").status_code == 200, path
        assert as_user(people.dcfs_worker2).get(f"/api/v1/cases/{dcfs_case.pk}/{path}").status_code == 404, path


def test_supervisors_see_every_case_their_agency_participates_in(people, as_user, dcfs_case):
    assert ids(as_user(people.dcfs_supervisor).get("/api/v1/cases/")) == [dcfs_case.pk]
    # the referring agency keeps sight of its referral only (SPEC §1 "Sharing has one door")…
    assert ids(as_user(people.sheriff_supervisor).get("/api/v1/cases/")) == []
    assert ids(as_user(people.probation_supervisor).get("/api/v1/cases/")) == []
    assert as_user(people.probation_supervisor).get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404
    # … until the lead shares the case with it
    case_services.case_agency_grant(
        case=dcfs_case, actor=people.dcfs_supervisor, agency=people.sheriff_supervisor.agency, legal_basis="mdt_18961_7"
    )
    assert ids(as_user(people.sheriff_supervisor).get("/api/v1/cases/")) == [dcfs_case.pk]


def test_participation_opens_and_expiry_closes_access_at_once(people, as_user, make_client, dcfs_case):
    # given
    probation_sup = as_user(people.probation_supervisor)
    probation_worker = as_user(people.probation_case_worker)
    assert probation_sup.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404
    # when
    case_services.case_agency_grant(
        case=dcfs_case,
        actor=people.dcfs_supervisor,
        agency=people.probation_supervisor.agency,
        legal_basis="mdt_18961_7",
    )
    # then: the supervisor sees it; the worker only once on the team
    assert probation_sup.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 200
    assert probation_worker.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404
    case_services.case_team_member_add(
        case=dcfs_case,
        actor=people.probation_supervisor,
        user=people.probation_case_worker,
        case_role="probation_officer",
    )
    assert probation_worker.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 200
    # and 30 days later (no job runs) both are out again
    with time_machine.travel(timezone.now() + dt.timedelta(days=30, seconds=1)):
        probation_sup, probation_worker = (
            make_client(people.probation_supervisor),
            make_client(people.probation_case_worker),
        )
        assert probation_sup.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404
        assert probation_worker.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404
        assert ids(probation_sup.get("/api/v1/cases/")) == []


def test_revoked_participation_is_404(people, as_user, dcfs_case):
    participation = case_services.case_agency_grant(
        case=dcfs_case, actor=people.dcfs_supervisor, agency=people.dmh_supervisor.agency, legal_basis="mdt_18961_7"
    )
    assert as_user(people.dmh_supervisor).get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 200
    case_services.case_agency_revoke(participation=participation, actor=people.dcfs_supervisor)
    assert as_user(people.dmh_supervisor).get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["agency_admin", "auditor", "mdt_member"])
@pytest.mark.parametrize("agency", ["dcfs", "sheriff"])
def test_admins_auditors_and_mdt_members_get_nothing_from_any_case_endpoint(people, as_user, dcfs_case, role, agency):
    user = getattr(people, f"{agency}_{role}")
    referral = dcfs_case.referrals.first()
    client = as_user(user)
    paths = [
        "/api/v1/youth/",
        f"/api/v1/youth/{dcfs_case.youth_id}/",
        "/api/v1/youth/matches/?first_name=Jasmine&last_name=Carter",
        "/api/v1/referrals/",
        f"/api/v1/referrals/{referral.pk}/",
        "/api/v1/cases/",
        *[f"/api/v1/cases/{dcfs_case.pk}/{p}" for p in CASE_PART_PATHS],
    ]
    for path in paths:
        response = client.get(path)
        # a collection: the role is refused (403); a named object: not visible (404)
        expected = 404 if re.search(r"/\d+/", path) else 403
        assert response.status_code == expected, path
        assert set(response.json()) <= {"detail", "code"}
    assert client.post("/api/v1/referrals/", {}, format="json").status_code == 403
    assert client.post(f"/api/v1/referrals/{referral.pk}/accept/").status_code == 404
    assert client.patch(f"/api/v1/cases/{dcfs_case.pk}/", {}, format="json").status_code == 404


def test_system_admin_gets_nothing(people, as_user, dcfs_case):
    client = as_user(people.system_admin)
    assert client.get("/api/v1/cases/").status_code == 403
    assert client.get(f"/api/v1/cases/{dcfs_case.pk}/").status_code == 404
    assert client.get("/api/v1/cases/999999/").status_code == 404  # same answer: nothing about existence


def test_selectors_give_no_case_data_to_non_case_roles(people, dcfs_case):
    for user in [people.system_admin, people.dcfs_agency_admin, people.dcfs_auditor, people.dcfs_mdt_member]:
        assert not visibility.case_list_visible_to(user=user).exists()
        assert not visibility.referral_list_visible_to(user=user).exists()
        assert not visibility.youth_list_visible_to(user=user).exists()
        assert (
            not visibility.case_list_visible_to(user=user)
            .filter(id__in=visibility.case_ids_visible_to(user=user))
            .exists()
        )


def test_referral_visibility(people, as_user):
    # given
    own = create_referral(people.dcfs_case_worker)
    other = create_referral(people.dcfs_worker2)
    sheriffs = create_referral(people.sheriff_case_worker, receiving_agency=people.dmh_supervisor.agency)
    # then
    assert ids(as_user(people.dcfs_case_worker).get("/api/v1/referrals/")) == [own.pk]
    assert as_user(people.dcfs_case_worker).get(f"/api/v1/referrals/{other.pk}/").status_code == 404
    assert ids(as_user(people.dcfs_supervisor).get("/api/v1/referrals/")) == [other.pk, own.pk]
    assert ids(as_user(people.sheriff_supervisor).get("/api/v1/referrals/")) == [sheriffs.pk]
    assert ids(as_user(people.dmh_supervisor).get("/api/v1/referrals/")) == [sheriffs.pk]
    assert ids(as_user(people.probation_supervisor).get("/api/v1/referrals/")) == []


def test_youth_visibility(people, as_user, dcfs_case):
    loose = create_youth(people.dcfs_worker2, first_name="Other")
    assert ids(as_user(people.dcfs_case_worker).get("/api/v1/youth/")) == [dcfs_case.youth_id]
    assert ids(as_user(people.dcfs_worker2).get("/api/v1/youth/")) == [loose.pk]
    assert sorted(ids(as_user(people.dcfs_supervisor).get("/api/v1/youth/"))) == sorted([dcfs_case.youth_id, loose.pk])
    assert as_user(people.probation_case_worker).get(f"/api/v1/youth/{dcfs_case.youth_id}/").status_code == 404
    detail = as_user(people.dcfs_case_worker).get(f"/api/v1/youth/{dcfs_case.youth_id}/").json()
    assert detail["first_name"] == "Jasmine" and detail["aliases"] == ["Jazzy"]


def test_filtering_on_fields_of_hidden_objects_reveals_nothing(people, as_user, dcfs_case):
    client = as_user(people.probation_supervisor)
    hidden_youth = dcfs_case.youth_id
    for path in [
        f"/api/v1/referrals/?youth={hidden_youth}",
        f"/api/v1/referrals/?case={dcfs_case.pk}",
        f"/api/v1/cases/?youth={hidden_youth}",
        f"/api/v1/cases/?number={dcfs_case.number}",
        "/api/v1/youth/?first_name=Jasmine&last_name=Carter",
        "/api/v1/youth/?date_of_birth=2010-03-14",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json()["count"] == 0, path


def test_youth_filters_use_blind_indexes(people, as_user, dcfs_case):
    client = as_user(people.dcfs_supervisor)
    assert ids(client.get("/api/v1/youth/?first_name=%20JASMINE%20")) == [dcfs_case.youth_id]
    assert ids(client.get("/api/v1/youth/?date_of_birth=2010-03-14")) == [dcfs_case.youth_id]
    assert ids(client.get("/api/v1/youth/?last_name=Carterr")) == []
    assert client.get("/api/v1/youth/?date_of_birth=notadate").status_code == 400


def test_hidden_case_parts_are_404_for_reads_and_writes(people, as_user, dcfs_case):
    client = as_user(people.probation_supervisor)
    episode = episode_services.missing_episode_create(
        case=dcfs_case, actor=people.dcfs_case_worker, missing_since=timezone.now(), learned_at=timezone.now()
    )
    assert client.get(f"/api/v1/missing-episodes/{episode.pk}/").status_code == 404
    assert (
        client.patch(f"/api/v1/missing-episodes/{episode.pk}/", {"ncic_number": "X"}, format="json").status_code == 404
    )
    assert (
        client.post(
            f"/api/v1/cases/{dcfs_case.pk}/notes/", {"body": "x", "visibility": "team"}, format="json"
        ).status_code
        == 404
    )
    assert client.post(f"/api/v1/cases/{dcfs_case.pk}/close/", {"reason": "x"}, format="json").status_code == 404
    assert client.get(f"/api/v1/cases/{dcfs_case.pk}/agencies/DCFS/renew/").status_code in (404, 405)
    assert (
        client.post(
            f"/api/v1/cases/{dcfs_case.pk}/agencies/SHERIFF/renew/", {"good_cause": "x"}, format="json"
        ).status_code
        == 404
    )


def test_every_read_is_audited_with_its_youth(people, as_user, dcfs_case):
    from audit.models import AuditEvent

    client = as_user(people.dcfs_case_worker)
    client.get("/api/v1/cases/")
    client.get(f"/api/v1/cases/{dcfs_case.pk}/")
    client.get(f"/api/v1/cases/{dcfs_case.pk}/timeline/")
    client.get(f"/api/v1/youth/{dcfs_case.youth_id}/")
    events = AuditEvent.objects.filter(actor_id=people.dcfs_case_worker.pk)
    assert {(e.action, e.object_type) for e in events} >= {
        ("list", "case"),
        ("view", "case"),
        ("view", "case_timeline"),
        ("view", "youth"),
    }
    assert all(e.youth_id == dcfs_case.youth_id for e in events)


def test_every_form_of_the_visibility_rule_agrees(people, dcfs_case):
    """Visibility is written three ways for speed — the supervisor's case list filters cases, the
    id sets are UNIONs, the duplicate search asks only of its candidates — and must be one rule."""
    from cases.models import Case, CaseAgency, Youth

    # given more to tell apart: an unrelated case, an expired and a revoked 18961.7 share
    other = open_case(people.probation_case_worker, people.probation_supervisor)
    shared = open_case(people.dmh_case_worker, people.dmh_supervisor)
    expired = case_services.case_agency_grant(
        case=shared, actor=people.dmh_supervisor, agency=people.dcfs_supervisor.agency, legal_basis="mdt_18961_7"
    )
    CaseAgency.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    revoked = case_services.case_agency_grant(
        case=other,
        actor=people.probation_supervisor,
        agency=people.sheriff_supervisor.agency,
        legal_basis="consent",
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    case_services.case_agency_revoke(participation=revoked, actor=people.probation_supervisor)
    create_youth(people.dcfs_worker2, first_name="Held")
    everyone = list(Youth.objects.values_list("id", flat=True))

    for user in vars(people).values():
        listed = set(visibility.case_list_visible_to(user=user).values_list("id", flat=True))
        by_ids = set(Case.objects.filter(id__in=visibility.case_ids_visible_to(user=user)).values_list("id", flat=True))
        youth = set(
            Youth.objects.filter(id__in=visibility.youth_ids_visible_to(user=user)).values_list("id", flat=True)
        )
        # then the forms agree, for every role
        assert listed == by_ids, user.username
        assert visibility.youth_ids_visible_among(user=user, ids=everyone) == youth, user.username
    assert dcfs_case.pk in set(
        visibility.case_list_visible_to(user=people.dcfs_supervisor).values_list("id", flat=True)
    )
    assert shared.pk not in set(
        visibility.case_list_visible_to(user=people.dcfs_supervisor).values_list("id", flat=True)
    )
    assert other.pk not in set(
        visibility.case_list_visible_to(user=people.sheriff_supervisor).values_list("id", flat=True)
    )
