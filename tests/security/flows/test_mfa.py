"""Abuse stories about multi-factor authentication (SPEC §6 authentication)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from core.permissions import Role
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
WRONG_PASSWORD = "not-the-password-0"


@pytest.fixture(autouse=True)
def _mfa_on(settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_MFA_ENFORCED = True


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def _wrong_code(device: TOTPDevice) -> str:
    return f"{(int(_code(device)) + 1) % 1_000_000:06d}"


def _login(username: str, password: str = TEST_PASSWORD, otp: str | None = None):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return APIClient().post("/api/v1/auth/token/", body, format="json")


def _authed(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_pre_enrolment_token_stays_enrol_only_after_enrolment(agencies):
    # given an agency admin who must use MFA but has not enrolled, signed in with a password only
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    with time_machine.travel(T0, tick=False) as traveller:
        first = _login("dcfs_admin")
        assert first.status_code == 200
        pre_enrolment = _authed(first.json()["token"])
        assert pre_enrolment.get("/api/v1/users/").status_code == 403

        # when they enrol with that token
        assert pre_enrolment.post("/api/v1/me/mfa/totp/").status_code == 201
        device = TOTPDevice.objects.get(user=admin, confirmed=False)
        confirmed = pre_enrolment.post("/api/v1/me/mfa/totp/confirm/", {"otp": _code(device)}, format="json")
        assert confirmed.status_code == 200, confirmed.content

        # then the token that had no code never reaches anything more
        assert pre_enrolment.get("/api/v1/users/").status_code in (401, 403)
        assert pre_enrolment.get("/api/v1/agencies/").status_code in (401, 403)

        # and signing in again with a code is the way in
        traveller.shift(dt.timedelta(seconds=31))
        again = _login("dcfs_admin", otp=_code(device))
        assert again.status_code == 200, again.content
        assert _authed(again.json()["token"]).get("/api/v1/users/").status_code == 200


def test_wrong_totp_code_counts_toward_lockout(agencies):
    # given an enrolled agency admin
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    with time_machine.travel(T0, tick=False) as traveller:
        # when someone with the password guesses codes
        wrong_password = _login("dcfs_admin", password=WRONG_PASSWORD, otp=_code(device))
        no_code = _login("dcfs_admin")
        wrong_codes = [_login("dcfs_admin", otp=_wrong_code(device)) for _ in range(2)]

        # then a wrong code gets exactly the answer of a wrong password
        for response in [no_code, *wrong_codes]:
            assert (response.status_code, response.json()) == (wrong_password.status_code, wrong_password.json())
        assert wrong_password.status_code == 400
        assert "otp" not in str(wrong_password.json()).lower()

        # and the fifth failure, a code too, locks the account: even the right password and code
        # are refused
        assert _login("dcfs_admin", otp=_wrong_code(device)).status_code in (400, 429)
        traveller.shift(dt.timedelta(seconds=61))
        locked = _login("dcfs_admin", otp=_code(device))
        assert locked.status_code == 429, locked.content


def test_admin_never_shows_totp_secret(agencies, system_admin, settings):
    # given a worker's enrolled authenticator and recovery codes (the admin's own second factor
    # is beside the point here: tests/security/test_mfa.py covers the admin login)
    settings.HARBOR_MFA_ENFORCED = False
    worker = UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)
    device = TOTPDevice.objects.create(user=worker, name="phone", confirmed=True)
    static = StaticDevice.objects.create(user=worker, name="recovery", confirmed=True)
    StaticToken.objects.create(device=static, token="rc4z9q2x")
    browser = Client()
    browser.force_login(system_admin)

    # when the system admin (a superuser) browses every page of the admin that names them
    pages = [
        browser.get("/admin/", follow=True),
        browser.get("/admin/otp_totp/totpdevice/", follow=True),
        browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/", follow=True),
        browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/", follow=True),
        browser.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/", follow=True),
        browser.get("/admin/otp_static/staticdevice/", follow=True),
        browser.get(f"/admin/otp_static/staticdevice/{static.pk}/change/", follow=True),
        browser.get("/admin/otp_totp/totpdevice/add/", follow=True),
    ]

    # then neither the secret, nor a QR code, nor a recovery code is ever shown
    for page in pages:
        body = b"".join(page) if page.streaming else page.content
        assert device.key.encode() not in body
        assert b"rc4z9q2x" not in body
        assert page.get("Content-Type", "").split(";")[0] != "image/svg+xml"
        assert b"otpauth://" not in body
    # and no one can write devices through the admin
    assert pages[2].status_code == 200 and b"phone" in pages[2].content
    assert pages[-1].status_code == 403
