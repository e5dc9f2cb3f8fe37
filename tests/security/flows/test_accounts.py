"""Abuse stories about who may change whom (SPEC §1 "Separation of duties", "Clinical agencies")."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Agency, User
from cases.permissions import is_clinical_agency
from core.permissions import Role
from tests.accounts.conftest import api_login
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
CHOSEN_BY_ADMIN = "Admin-Chosen-Lantern-58"


def _change_form(user: User, **overrides: object) -> dict:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "agency": user.agency_id,
        "role": user.role,
        "is_active": "on",
        **overrides,
    }


def test_agency_admin_cannot_promote_themselves(agencies):
    # given an agency admin (who may grant supervisor to others in their agency)
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    client = api_login(admin.username)

    # when they give themselves a case role, another agency, or try to reactivate themselves
    as_supervisor = client.patch(f"/api/v1/users/{admin.pk}/", {"role": Role.SUPERVISOR})
    to_dmh = client.patch(f"/api/v1/users/{admin.pk}/", {"agency": "DMH"})
    browser = Client()
    browser.force_login(admin)
    browser.post(f"{USERS}{admin.pk}/change/", _change_form(admin, role=Role.SUPERVISOR))

    # then every door refuses, saying why
    assert as_supervisor.status_code == 403, as_supervisor.content
    assert "your own" in as_supervisor.json()["detail"]
    assert to_dmh.status_code == 403
    admin.refresh_from_db()
    assert (admin.role, admin.agency.code, admin.is_active) == (Role.AGENCY_ADMIN, "DCFS", True)


def test_admin_cannot_set_a_workers_password(agencies, django_capture_on_commit_callbacks):
    # given an agency admin and a worker of their agency
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    worker = UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)
    client = api_login(admin.username)
    browser = Client()
    browser.force_login(admin)
    body = {"username": "newbie", "email": "newbie@example.invalid", "role": Role.CASE_WORKER}

    # when the admin tries to choose passwords, on the API and in the Django admin
    created = client.post("/api/v1/users/", {**body, "password": CHOSEN_BY_ADMIN})
    patched = client.patch(f"/api/v1/users/{worker.pk}/", {"password": CHOSEN_BY_ADMIN})
    admin_page = browser.post(
        f"{USERS}{worker.pk}/password/",
        {"password1": CHOSEN_BY_ADMIN, "password2": CHOSEN_BY_ADMIN, "usable_password": "true"},
    )
    add_page = browser.get(f"{USERS}add/")
    change_page = browser.get(f"{USERS}{worker.pk}/change/")

    # then nothing the admin chose becomes anyone's password
    assert created.status_code == 400, created.content
    assert "link" in created.json()["detail"]
    assert patched.status_code == 400, patched.content
    assert admin_page.status_code in (403, 404)
    assert not User.objects.filter(username="newbie").exists()
    worker.refresh_from_db()
    assert worker.check_password(TEST_PASSWORD) and not worker.check_password(CHOSEN_BY_ADMIN)
    assert b'name="password' not in add_page.content
    assert b'name="password' not in change_page.content and b"password/" not in change_page.content

    # and the way that remains is a set-password link emailed to the worker
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/api/v1/users/{worker.pk}/send-password-link/")
    assert sent.status_code == 202, sent.content
    assert [m.to for m in mail.outbox] == [[worker.email]]
    assert "/accounts/set-password/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Role.AGENCY_ADMIN, Role.SUPERVISOR),
        (Role.AGENCY_ADMIN, Role.CASE_WORKER),
        (Role.AUDITOR, Role.MDT_MEMBER),
        (Role.SUPERVISOR, Role.AGENCY_ADMIN),
        (Role.MDT_MEMBER, Role.AUDITOR),
    ],
)
def test_role_cannot_cross_from_admin_to_case_roles(agencies, system_admin, start, target):
    # given a person with a role on one side of the line
    person = UserFactory(username="crosser", agency=agencies["DCFS"], role=start)
    client = api_login(system_admin.username)
    browser = Client()
    browser.force_login(system_admin)

    # when even a system admin moves them to the other side, on the API or the admin
    response = client.patch(f"/api/v1/users/{person.pk}/", {"role": target})
    page = browser.post(f"{USERS}{person.pk}/change/", _change_form(person, role=target))

    # then it is refused with the way out: a new account
    assert response.status_code in (400, 403), response.content
    assert "new account" in response.json()["detail"]
    assert page.status_code in (200, 403)
    if page.status_code == 200:
        assert b"new account" in page.content
    person.refresh_from_db()
    assert person.role == start


def test_clinical_agencies_come_from_settings(agencies, system_admin, settings):
    # given a mental-health agency that the deployment did not name clinical
    private = Agency.objects.create(code="PRIVATE_MH", name="Private clinic", kind=Agency.Kind.MENTAL_HEALTH)
    sheriff = agencies["SHERIFF"]
    browser = Client()
    browser.force_login(system_admin)

    # when a system admin edits the Sheriff's kind to mental health in the admin
    browser.post(
        f"/admin/accounts/agency/{sheriff.pk}/change/",
        {"code": "SHERIFF", "name": sheriff.name, "kind": Agency.Kind.MENTAL_HEALTH, "is_active": "on"},
    )
    sheriff.refresh_from_db()

    # then only the configured codes are clinical
    assert sheriff.kind == Agency.Kind.MENTAL_HEALTH
    assert not is_clinical_agency(sheriff)
    assert not is_clinical_agency(private)
    assert is_clinical_agency(agencies["DMH"])
    settings.HARBOR_CLINICAL_AGENCIES = ["DMH", "PRIVATE_MH"]
    assert is_clinical_agency(private)
    settings.HARBOR_CLINICAL_AGENCIES = ["PRIVATE_MH"]
    assert not is_clinical_agency(agencies["DMH"])
