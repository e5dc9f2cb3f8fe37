"""MFA (SPEC §8): TOTP required for agency_admin, system_admin and auditor — on the API and the
admin site — optional for others unless HARBOR_MFA_REQUIRED_FOR_ALL. Real TOTP codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _mfa_on(settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_MFA_ENFORCED = True


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def login(username: str, otp: str | None = None):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": TEST_PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return APIClient().post("/api/v1/auth/token/", body, format="json")


def authed(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def enrol(client: APIClient, user) -> TOTPDevice:  # type: ignore[no-untyped-def]
    begin = client.post("/api/v1/me/mfa/totp/")
    assert begin.status_code == 201
    assert begin.json()["otpauth_url"].startswith("otpauth://totp/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    confirm = client.post("/api/v1/me/mfa/totp/confirm/", {"otp": code_for(device)}, format="json")
    assert confirm.status_code == 200, confirm.content
    codes = confirm.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return device


@pytest.mark.django_db
def test_agency_admin_must_enrol_before_anything_else_then_needs_a_code(agencies):  # type: ignore[no-untyped-def]
    # given an agency admin who has not set up MFA
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role="agency_admin")
    with time_machine.travel(T0, tick=False):
        first = login("dcfs_admin")
        assert first.status_code == 200
        client = authed(first.json()["token"])
        # when they try to manage users before enrolling
        # then only enrolment is open to them
        assert client.get("/api/v1/users/").status_code == 403
        assert client.get("/api/v1/me/").status_code == 200
        device = enrol(client, admin)
        # and enrolling ends the token that had no code (SPEC §6; this once answered 200)
        assert client.get("/api/v1/users/").status_code == 401

    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False) as traveller:
        # when they log in again without a code, or with a wrong one: the answer of a wrong password
        wrong_password = APIClient().post(
            "/api/v1/auth/token/", {"username": "dcfs_admin", "password": "nope-nope-nope"}
        )
        assert login("dcfs_admin").json() == wrong_password.json()
        assert login("dcfs_admin", otp="000000").status_code == 400
        # then a real TOTP code lets them in (after django-otp's back-off from the failure)
        traveller.shift(dt.timedelta(seconds=30))
        ok = login("dcfs_admin", otp=code_for(device))
        assert ok.status_code == 200, ok.content
        assert authed(ok.json()["token"]).get("/api/v1/users/").status_code == 200
    assert AuditEvent.objects.filter(action="mfa_change", object_id=str(admin.pk)).count() >= 2
    assert AuditEvent.objects.filter(action="login_failed", object_id=str(admin.pk)).exists()


@pytest.mark.django_db
def test_recovery_code_works_once(agencies):  # type: ignore[no-untyped-def]
    admin = UserFactory(username="dmh_admin", agency=agencies["DMH"], role="agency_admin")
    with time_machine.travel(T0, tick=False):
        client = authed(login("dmh_admin").json()["token"])
        client.post("/api/v1/me/mfa/totp/")
        device = TOTPDevice.objects.get(user=admin)
        codes = client.post("/api/v1/me/mfa/totp/confirm/", {"otp": code_for(device)}, format="json").json()[
            "recovery_codes"
        ]
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False) as traveller:
        assert login("dmh_admin", otp=codes[0]).status_code == 200
        assert login("dmh_admin", otp=codes[0]).status_code == 400
        traveller.shift(dt.timedelta(seconds=30))  # django-otp backs off after a failure
        assert login("dmh_admin", otp=codes[1]).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["system_admin", "auditor"])
def test_other_mfa_roles_are_held_to_enrolment(agencies, role):  # type: ignore[no-untyped-def]
    UserFactory(username=f"u_{role}", agency=agencies["DCFS"], role=role)
    token = login(f"u_{role}").json()["token"]
    target = "/api/v1/audit-events/" if role == "auditor" else "/api/v1/users/"
    assert authed(token).get(target).status_code == 403


@pytest.mark.django_db
def test_case_worker_needs_no_mfa_unless_required_for_all(agencies, settings):  # type: ignore[no-untyped-def]
    UserFactory(username="worker", agency=agencies["DCFS"], role="case_worker")
    token = login("worker").json()["token"]
    assert authed(token).get("/api/v1/agencies/").status_code == 200
    settings.HARBOR_MFA_REQUIRED_FOR_ALL = True
    token = login("worker").json()["token"]
    assert authed(token).get("/api/v1/agencies/").status_code == 403


@pytest.mark.django_db
def test_agency_admin_resets_mfa_of_own_agency_only(agencies, make_client):  # type: ignore[no-untyped-def]
    # given an enrolled DCFS worker, a Probation worker, and a DCFS admin with MFA
    worker = UserFactory(username="w1", agency=agencies["DCFS"], role="case_worker")
    other = UserFactory(username="w2", agency=agencies["PROBATION"], role="case_worker")
    for user in (worker, other):
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    admin = UserFactory(username="a1", agency=agencies["DCFS"], role="agency_admin")
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    client = make_client(admin)
    # when / then
    assert client.post(f"/api/v1/users/{worker.pk}/reset-mfa/").status_code == 204
    assert not TOTPDevice.objects.filter(user=worker).exists()
    assert client.post(f"/api/v1/users/{other.pk}/reset-mfa/").status_code == 404
    assert TOTPDevice.objects.filter(user=other).exists()
    assert AuditEvent.objects.filter(action="mfa_change", object_id=str(worker.pk), actor_id=admin.pk).exists()


@pytest.mark.django_db
def test_admin_site_login_requires_the_code(agencies, client):  # type: ignore[no-untyped-def]
    admin = UserFactory(username="site_admin", agency=agencies["DCFS"], role="agency_admin")
    with time_machine.travel(T0, tick=False):
        device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
        page = client.get("/admin/login/")
        assert b"otp_token" in page.content
        # password alone is refused
        refused = client.post("/admin/login/?next=/admin/", {"username": "site_admin", "password": TEST_PASSWORD})
        assert refused.status_code == 200 and client.get("/admin/").status_code == 302
        # password + TOTP code gets in
        ok = client.post(
            "/admin/login/?next=/admin/",
            {
                "username": "site_admin",
                "password": TEST_PASSWORD,
                "otp_device": device.persistent_id,
                "otp_token": code_for(device),
            },
        )
        assert ok.status_code == 302, re.sub(r"\s+", " ", ok.content.decode())[:400]
        assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_site_takes_the_code_without_a_device_choice(agencies, client):  # type: ignore[no-untyped-def]
    # given an enrolled admin who types only user name, password and the code
    admin = UserFactory(username="quick_admin", agency=agencies["DCFS"], role="agency_admin")
    with time_machine.travel(T0, tick=False):
        device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
        # when
        ok = client.post(
            "/admin/login/?next=/admin/",
            {"username": "quick_admin", "password": TEST_PASSWORD, "otp_token": code_for(device)},
        )
        # then
        assert ok.status_code == 302
        assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_demo_admins_are_enrolled_and_demo_otp_prints_their_code(agencies):  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    from accounts.demo import DEMO_PASSWORD, seed_demo_users

    with time_machine.travel(T0, tick=False):
        seed_demo_users()
        out = StringIO()
        call_command("demo_otp", "dcfs_agency_admin", stdout=out)
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"username": "dcfs_agency_admin", "password": DEMO_PASSWORD, "otp": out.getvalue().strip()},
            format="json",
        )
        assert response.status_code == 200
        assert authed(response.json()["token"]).get("/api/v1/users/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_on_the_admin_login_counts_toward_the_lockout_and_reads_as_a_wrong_password(agencies, client):  # type: ignore[no-untyped-def]
    # given an enrolled agency admin
    admin = UserFactory(username="site_admin", agency=agencies["DCFS"], role="agency_admin")
    with time_machine.travel(T0, tick=False) as traveller:
        device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
        wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
        form = {"username": "site_admin", "next": "/admin/"}

        # when the password is wrong once, then right with wrong codes
        bad_password = client.post("/admin/login/", {**form, "password": "nope-nope-nope", "otp_token": wrong})
        bad_codes = [
            client.post("/admin/login/", {**form, "password": TEST_PASSWORD, "otp_token": wrong}) for _ in range(3)
        ]

        # then the page says the same thing whichever part was wrong
        assert bad_password.status_code == 200
        password_errors = bad_password.context["form"].non_field_errors()
        for page in bad_codes:
            assert page.status_code == 200
            assert page.context["form"].non_field_errors() == password_errors
        assert (
            AuditEvent.objects.filter(action="login_failed", object_id=str(admin.pk), detail__reason="otp").count() == 3
        )

        # and the fifth failure locks the account, the right code included
        client.post("/admin/login/", {**form, "password": TEST_PASSWORD, "otp_token": wrong})
        traveller.shift(dt.timedelta(seconds=61))
        locked = client.post("/admin/login/", {**form, "password": TEST_PASSWORD, "otp_token": code_for(device)})
        assert locked.status_code == 429
        assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_resetting_mfa_ends_every_token_and_session(agencies, make_client):  # type: ignore[no-untyped-def]
    from django.contrib.sessions.models import Session
    from django.test import Client

    from accounts import mfa

    # given an enrolled worker with a token and a session, and their agency's admin
    worker = UserFactory(username="w1", agency=agencies["DCFS"], role="case_worker")
    TOTPDevice.objects.create(user=worker, name="phone", confirmed=True)
    admin = UserFactory(username="a1", agency=agencies["DCFS"], role="agency_admin")
    token = make_client(worker)
    browser = Client()
    browser.force_login(worker)
    key = browser.session.session_key

    # when the admin resets the worker's MFA (a lost phone)
    mfa.mfa_reset(actor=admin, user=worker)

    # then nothing signed in before the reset works
    assert token.get("/api/v1/me/").status_code == 401
    assert not Session.objects.filter(session_key=key).exists()
