"""Ending a user's sessions and tokens, the admin-session limits, and set-password links sent by
an admin (SPEC §1)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.checks import run_checks
from django.test import Client
from knox.models import AuthToken

from accounts import services
from accounts.middleware import SEEN_AT
from audit.models import AuditEvent
from core.permissions import Role
from tests.accounts.conftest import api_login
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


def _session_of(user) -> tuple[Client, str]:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(user)
    return browser, browser.session.session_key


def test_ending_one_users_sessions_leaves_everyone_elses(dcfs_worker, probation_worker):
    # given two people, each with a session and a token
    _, mine = _session_of(dcfs_worker)
    _, theirs = _session_of(probation_worker)
    client_for(dcfs_worker)
    client_for(probation_worker)
    anonymous = Client()
    anonymous.get("/admin/login/")  # (no row: an anonymous visit saves no session)

    # when
    ended = services.user_sessions_end(user=dcfs_worker)

    # then
    assert ended == {"tokens": 1, "sessions": 1}
    assert not Session.objects.filter(session_key=mine).exists()
    assert Session.objects.filter(session_key=theirs).exists()
    assert AuthToken.objects.filter(user=probation_worker).count() == 1


def test_deactivating_by_patch_ends_sessions_too(dcfs_admin, dcfs_worker):
    # given
    _, key = _session_of(dcfs_worker)

    # when
    response = api_login(dcfs_admin.username).patch(f"/api/v1/users/{dcfs_worker.pk}/", {"is_active": False})

    # then
    assert response.status_code == 200
    assert not Session.objects.filter(session_key=key).exists()


def test_sessions_must_live_where_they_can_be_found(settings):
    # given a cache-only session engine
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"

    # then the deployment check refuses it
    assert "accounts.E001" in {e.id for e in run_checks()}


def test_the_session_limits_middleware_must_be_installed(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "accounts.middleware.SessionLimitsMiddleware"]
    assert "accounts.E002" in {e.id for e in run_checks()}


def test_a_session_without_the_login_stamps_is_ended(dcfs_admin):
    # given a session whose stamps are missing (made before the limits, or by hand)
    browser, key = _session_of(dcfs_admin)
    session = browser.session
    del session[SEEN_AT]
    session.save()

    # when
    page = browser.get("/admin/")

    # then
    assert page.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


def test_activity_keeps_an_admin_session_alive_within_its_limits(dcfs_admin):
    with time_machine.travel(T0, tick=False) as traveller:
        browser, _ = _session_of(dcfs_admin)
        for _ in range(5):
            traveller.shift(dt.timedelta(minutes=25))
            assert browser.get("/admin/").status_code == 200


def test_an_admin_sends_a_set_password_link_to_own_agency_only(
    dcfs_admin, dcfs_worker, probation_worker, django_capture_on_commit_callbacks
):
    # given
    client = api_login(dcfs_admin.username)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        own = client.post(f"/api/v1/users/{dcfs_worker.pk}/send-password-link/")
        other = client.post(f"/api/v1/users/{probation_worker.pk}/send-password-link/")

    # then
    assert (own.status_code, other.status_code) == (202, 404)
    assert [m.to for m in mail.outbox] == [[dcfs_worker.email]]
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.has_usable_password()  # nothing changes until the link is used
    event = AuditEvent.objects.get(object_type="user", object_id=str(dcfs_worker.pk))
    assert (event.actor_id, event.detail) == (dcfs_admin.pk, {"step": "password_link_sent"})


def test_no_link_for_a_deactivated_user_nor_from_a_supervisor(dcfs_admin, dcfs_worker, agencies):
    # given
    supervisor = UserFactory(username="dcfs_sup", agency=agencies["DCFS"], role=Role.SUPERVISOR)
    services.user_deactivate(actor=dcfs_admin, user=dcfs_worker)

    # when
    inactive = api_login(dcfs_admin.username).post(f"/api/v1/users/{dcfs_worker.pk}/send-password-link/")
    by_supervisor = api_login(supervisor.username).post(f"/api/v1/users/{dcfs_admin.pk}/send-password-link/")

    # then
    assert inactive.status_code == 409
    assert by_supervisor.status_code == 403
    assert mail.outbox == []


def test_an_admin_sees_their_own_role_agency_and_state_read_only(dcfs_admin):
    # given
    browser, _ = _session_of(dcfs_admin)

    # when
    page = browser.get(f"/admin/accounts/user/{dcfs_admin.pk}/change/")

    # then
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not {"role", "agency", "is_active"} & set(form.fields)


def test_a_refused_change_in_the_admin_is_a_form_error_naming_the_rule(system_admin, agencies):
    # given an agency admin whom a system admin tries to turn into a supervisor
    person = UserFactory(username="crosser", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    browser, _ = _session_of(system_admin)

    # when
    page = browser.post(
        f"/admin/accounts/user/{person.pk}/change/",
        {
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "agency": agencies["DCFS"].pk,
            "role": Role.SUPERVISOR,
            "is_active": "on",
        },
    )

    # then
    assert page.status_code == 200
    assert "new account" in str(page.context["adminform"].form.errors["role"])
    person.refresh_from_db()
    assert person.role == Role.AGENCY_ADMIN


def test_a_system_admin_cannot_deactivate_or_demote_themselves(system_admin):
    client = api_login(system_admin.username)
    deactivated = client.post(f"/api/v1/users/{system_admin.pk}/deactivate/")
    assert deactivated.status_code == 403
    assert "your own" in deactivated.json()["detail"]
    system_admin.refresh_from_db()
    assert system_admin.is_active


def test_changing_a_users_email_tells_the_old_address(dcfs_admin, dcfs_worker, django_capture_on_commit_callbacks):
    # given: set-password links go to the account's address, so a changed address must not pass
    # unnoticed (an admin could point it at themselves and send a link)
    old = dcfs_worker.email

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_login(dcfs_admin.username).patch(
            f"/api/v1/users/{dcfs_worker.pk}/", {"email": "elsewhere@example.invalid"}
        )

    # then
    assert response.status_code == 200
    assert [m.to for m in mail.outbox] == [[old]]
    assert "elsewhere@example.invalid" not in mail.outbox[0].body
    event = AuditEvent.objects.get(object_type="user", object_id=str(dcfs_worker.pk))
    assert event.detail == {"fields": ["email"]}
