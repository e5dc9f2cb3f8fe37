"""MDT teams and their membership: bootstrap, the API (system admin) and the Django admin."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEvent
from mdt import selectors
from mdt.bootstrap import run as bootstrap_run
from mdt.models import MDTTeam, TeamMembership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_bootstrap_adds_star_and_dream_once(db):  # type: ignore[no-untyped-def]
    bootstrap_run()
    bootstrap_run()
    call_command("bootstrap", stdout=open("/dev/null", "w"))  # noqa: SIM115
    teams = {t.code: t for t in MDTTeam.objects.all()}
    assert set(teams) == {"STAR", "DREAM"}
    assert teams["STAR"].court == "STAR" and "Compton" in teams["STAR"].court_location
    assert teams["DREAM"].court == "DREAM" and "Edelman" in teams["DREAM"].court_location


def test_everyone_lists_the_teams_with_their_own_membership(people, star, dream, make_client):  # type: ignore[no-untyped-def]
    rows = make_client(people.star_coordinator).get("/api/v1/mdt/teams/").json()["results"]
    assert [(r["code"], r["is_member"], r["is_coordinator"]) for r in rows] == [
        ("DREAM", False, False),
        ("STAR", True, True),
    ]
    rows = make_client(people.da_member).get("/api/v1/mdt/teams/").json()["results"]
    assert [(r["code"], r["is_member"], r["is_coordinator"]) for r in rows] == [
        ("DREAM", False, False),
        ("STAR", True, False),
    ]


def test_a_system_admin_manages_members_and_coordinators(people, star, make_client, agencies):  # type: ignore[no-untyped-def]
    admin = make_client(people.system_admin)
    url = f"/api/v1/mdt/teams/{star.pk}/members/"
    newcomer = UserFactory(username="pd_member", agency=agencies["DMH"], role="mdt_member")
    # add, then promote
    added = admin.post(url, {"user": newcomer.pk}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["is_coordinator"] is False and added.json()["agency"] == "DMH"
    promoted = admin.post(url, {"user": newcomer.pk, "is_coordinator": True}, format="json")
    assert promoted.status_code == 200 and promoted.json()["is_coordinator"] is True
    assert selectors.is_coordinator(user=newcomer, team=star)
    # the roster
    roster = admin.get(url).json()["results"]
    assert newcomer.pk in [r["user"] for r in roster]
    # remove
    assert admin.delete(f"{url}{newcomer.pk}/").status_code == 204
    assert admin.delete(f"{url}{newcomer.pk}/").status_code == 404
    assert not TeamMembership.objects.filter(user=newcomer).exists()
    changes = AuditEvent.objects.filter(
        action="access_change", object_type="mdt_team_membership", actor_id=people.system_admin.pk
    )
    assert changes.filter(detail__user=newcomer.pk).count() == 3


@pytest.mark.parametrize("role", ["system_admin", "agency_admin", "auditor"])
def test_admins_and_auditors_cannot_sit_on_a_team(people, star, make_client, agencies, role):  # type: ignore[no-untyped-def]
    candidate = UserFactory(username=f"cand_{role}", agency=agencies["DCFS"], role=role)
    response = make_client(people.system_admin).post(
        f"/api/v1/mdt/teams/{star.pk}/members/", {"user": candidate.pk}, format="json"
    )
    assert response.status_code == 400
    assert "user" in response.json()["errors"]


def test_only_a_system_admin_changes_membership(people, star, make_client):  # type: ignore[no-untyped-def]
    url = f"/api/v1/mdt/teams/{star.pk}/members/"
    for user in (people.star_coordinator, people.agency_admin, people.da_member, people.auditor):
        client = make_client(user)
        assert client.post(url, {"user": people.outsider.pk}, format="json").status_code == 403
        assert client.delete(f"{url}{people.da_member.pk}/").status_code == 403
    assert not TeamMembership.objects.filter(user=people.outsider).exists()


def test_the_roster_is_for_members_and_system_admins(people, star, make_client):  # type: ignore[no-untyped-def]
    url = f"/api/v1/mdt/teams/{star.pk}/members/"
    assert make_client(people.da_member).get(url).status_code == 200
    assert make_client(people.system_admin).get(url).status_code == 200
    for user in (people.dream_member, people.outsider, people.agency_admin, people.auditor):
        assert make_client(user).get(url).status_code == 403
    assert make_client(people.system_admin).get("/api/v1/mdt/teams/999/members/").status_code == 404


def test_team_members_and_coordinators_are_active_users(people, star):  # type: ignore[no-untyped-def]
    assert list(selectors.team_coordinators(team=star)) == [people.star_coordinator]
    assert set(selectors.team_members(team=star)) == {people.star_coordinator, people.da_member, people.dmh_clinician}
    assert list(selectors.team_coordinators(team_id=star.pk)) == [people.star_coordinator]
    people.da_member.is_active = False
    people.da_member.save()
    assert set(selectors.team_members(team_id=star.pk)) == {people.star_coordinator, people.dmh_clinician}


# --- the Django admin -----------------------------------------------------------------------------


def _browser(user) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_admin_is_for_system_admins(people, star):  # type: ignore[no-untyped-def]
    assert _browser(people.system_admin).get("/admin/mdt/mdtteam/").status_code == 200
    agency_admin = _browser(people.agency_admin)
    assert agency_admin.get("/admin/mdt/mdtteam/").status_code == 403
    assert agency_admin.get(f"/admin/mdt/mdtteam/{star.pk}/change/").status_code in (302, 403, 404)
    index = agency_admin.get("/admin/")
    assert b"/admin/mdt/" not in index.content


def test_no_case_data_model_is_registered(db):  # type: ignore[no-untyped-def]
    from django.contrib import admin

    registered = {model._meta.label for model in admin.site._registry}
    assert "mdt.MDTTeam" in registered
    assert not registered & {"mdt.Meeting", "mdt.AgendaItem", "mdt.ActionItem", "mdt.Attendance", "mdt.CalendarFeed"}


def test_a_system_admin_adds_a_coordinator_in_the_admin_and_it_is_audited(people, star, agencies):  # type: ignore[no-untyped-def]
    newcomer = UserFactory(username="adm_added", agency=agencies["DMH"], role="supervisor")
    memberships = list(star.memberships.order_by("id"))
    form = {
        "code": star.code,
        "name": star.name,
        "court": star.court,
        "court_location": star.court_location,
        "memberships-TOTAL_FORMS": str(len(memberships) + 1),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for n, m in enumerate(memberships):
        form.update(
            {
                f"memberships-{n}-id": str(m.pk),
                f"memberships-{n}-team": str(star.pk),
                f"memberships-{n}-user": str(m.user_id),
            }
        )
        if m.is_coordinator:
            form[f"memberships-{n}-is_coordinator"] = "on"
    n = len(memberships)
    form.update(
        {
            f"memberships-{n}-team": str(star.pk),
            f"memberships-{n}-user": str(newcomer.pk),
            f"memberships-{n}-is_coordinator": "on",
        }
    )
    response = _browser(people.system_admin).post(f"/admin/mdt/mdtteam/{star.pk}/change/", form)
    assert response.status_code == 302, response.context["errors"] if response.context else response.content
    assert TeamMembership.objects.get(team=star, user=newcomer).is_coordinator
    assert AuditEvent.objects.filter(
        action="access_change", object_type="mdt_team_membership", detail__user=newcomer.pk
    ).exists()


def test_the_admin_refuses_an_auditor_as_member(people, star, agencies):  # type: ignore[no-untyped-def]
    auditor = UserFactory(username="adm_auditor", agency=agencies["DMH"], role="auditor")
    form = {
        "code": star.code,
        "name": star.name,
        "court": star.court,
        "court_location": star.court_location,
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-team": str(star.pk),
        "memberships-0-user": str(auditor.pk),
    }
    response = _browser(people.system_admin).post(f"/admin/mdt/mdtteam/{star.pk}/change/", form)
    assert response.status_code == 200  # the form again, with the error
    assert not TeamMembership.objects.filter(user=auditor).exists()
