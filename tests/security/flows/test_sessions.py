"""Abuse stories about sessions and tokens outliving a change of access (SPEC §1, §6)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from knox.models import AuthToken

from accounts import services
from audit.models import AuditEvent
from core.permissions import Role
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
NEW_PASSWORD = "Granite-Harbor-Willow-73"


def _admin_browser(user) -> tuple[Client, str]:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(user)
    assert browser.get("/admin/").status_code == 200
    return browser, browser.session.session_key


def test_deactivation_ends_sessions_and_reactivation_revives_nothing(agencies, system_admin):
    # given an agency admin with an admin-site session and an API token
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    browser, session_key = _admin_browser(admin)
    api = client_for(admin)
    assert api.get("/api/v1/me/").status_code == 200

    # when a system admin deactivates and later reactivates them
    services.user_deactivate(actor=system_admin, user=admin)
    assert not Session.objects.filter(session_key=session_key).exists()
    services.user_update(actor=system_admin, user=admin, data={"is_active": True})

    # then neither the old session nor the old token works again
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not AuthToken.objects.filter(user=admin).exists()
    page = browser.get("/admin/")
    assert page.status_code == 302 and page["Location"].startswith("/admin/login/")
    assert api.get("/api/v1/me/").status_code == 401


def test_password_reset_ends_every_session_and_token(agencies):
    # given a worker with two API tokens and a browser session (say, a stolen one)
    worker = UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)
    tokens = [client_for(worker), client_for(worker)]
    thief = Client()
    thief.force_login(worker)
    stolen_key = thief.session.session_key
    assert Session.objects.filter(session_key=stolen_key).exists()

    # when the worker resets their password through the emailed link
    Client().post("/api/v1/auth/password-reset/", {"email": worker.email}, content_type="application/json")
    link = re.search(r"https?://[^/\s]+(/accounts/set-password/[^\s]+/)", mail.outbox[-1].body).group(1)
    browser = Client()
    form_url = browser.get(link)["Location"]
    done = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    # then every session and token from before is gone
    assert done.status_code == 302, done.content
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    assert not Session.objects.filter(session_key=stolen_key).exists()
    assert not AuthToken.objects.filter(user=worker).exists()
    assert [t.get("/api/v1/me/").status_code for t in tokens] == [401, 401]


def test_admin_session_ends_after_30_minutes_idle(agencies):
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    with time_machine.travel(T0, tick=False) as traveller:
        # given an admin signed in to the admin site who keeps working for a while
        browser, session_key = _admin_browser(admin)
        traveller.shift(dt.timedelta(minutes=29))
        assert browser.get("/admin/").status_code == 200

        # when they leave it idle for 30 minutes
        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        page = browser.get("/admin/")

    # then the session has ended on the server, and the end is recorded
    assert page.status_code == 302 and page["Location"].startswith("/admin/login/")
    assert not Session.objects.filter(session_key=session_key).exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGOUT, object_id=str(admin.pk), detail__reason="idle"
    ).exists()


def test_admin_session_ends_after_12_hours_however_busy(agencies):
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    with time_machine.travel(T0, tick=False) as traveller:
        # given an admin who uses the admin site every 20 minutes
        browser, session_key = _admin_browser(admin)
        for _ in range(35):  # 11 h 40 min
            traveller.shift(dt.timedelta(minutes=20))
            assert browser.get("/admin/").status_code == 200

        # when the twelfth hour passes
        traveller.shift(dt.timedelta(minutes=20, seconds=1))
        page = browser.get("/admin/")

    # then the session ends however busy it was
    assert page.status_code == 302 and page["Location"].startswith("/admin/login/")
    assert not Session.objects.filter(session_key=session_key).exists()
