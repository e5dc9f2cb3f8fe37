"""Hardening (SPEC §8, issue "Proof of access control"): CORS closed, security headers on every
response, rate limits on the token, invitation and password-reset endpoints, the security
report, and MFA enforced by production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tight_rates(monkeypatch):  # type: ignore[no-untyped-def]
    # DRF binds the rates to the class at import; patch the class, not the settings.
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min", "invitation": "2/hour", "password_reset": "2/hour"}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed_in"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/",
        "/api/v1/auth/token/",  # a GET: 405
        "/health/",
        "/api/docs/",
        "/admin/login/",
        "/api/schema/",
        "/api/v1/no-such-thing/",  # 404
    ],
)
def test_security_headers_on_every_response(client, make_client, agencies, signed_in, path):  # type: ignore[no-untyped-def]
    """Whoever asks and whatever the answer (a page, an error, an unknown path)."""
    # given
    if signed_in:
        client = make_client(UserFactory(username="headers_worker", agency=agencies["DCFS"], role="case_worker"))
    # when
    response = client.get(path)
    # then
    assert "default-src" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_cors_is_closed_by_default(client):  # type: ignore[no-untyped-def]
    response = client.options(
        "/api/v1/auth/token/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in response
    response = client.get("/api/v1/me/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_token_endpoint_is_rate_limited(tight_rates, agencies):  # type: ignore[no-untyped-def]
    client = APIClient()
    codes = [
        client.post("/api/v1/auth/token/", {"username": f"nobody{i}", "password": "x" * 12}, format="json").status_code
        for i in range(4)
    ]
    assert codes == [400, 400, 400, 429]


@pytest.mark.django_db
def test_invitations_are_rate_limited(tight_rates, agencies, system_admin, make_client):  # type: ignore[no-untyped-def]
    client = make_client(system_admin)
    body = {"email": "new@example.invalid", "agency": "DCFS", "role": "case_worker"}
    codes = [
        client.post("/api/v1/users/", {**body, "username": f"new{i}"}, format="json").status_code for i in range(3)
    ]
    assert codes == [201, 201, 429]
    assert client.get("/api/v1/users/").status_code == 200  # listing is not throttled


@pytest.mark.django_db
def test_password_reset_never_tells_who_has_an_account(agencies, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    UserFactory(username="known", email="known@example.invalid", agency=agencies["DCFS"])
    client = APIClient()
    known = client.post("/api/v1/auth/password-reset/", {"email": "known@example.invalid"}, format="json")
    unknown = client.post("/api/v1/auth/password-reset/", {"email": "unknown@example.invalid"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["known@example.invalid"]]
    assert "/accounts/set-password/" in mail.outbox[0].body


@pytest.mark.django_db
def test_password_reset_is_rate_limited(tight_rates):  # type: ignore[no-untyped-def]
    client = APIClient()
    codes = [
        client.post("/api/v1/auth/password-reset/", {"email": "a@example.invalid"}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [202, 202, 429]


@pytest.mark.django_db
def test_security_report_lists_controls_and_strict_fails_when_any_is_off(capsys):  # type: ignore[no-untyped-def]
    call_command("security_report")
    out = capsys.readouterr().out
    assert "[ON ] lockout after 5 failures for 10 minutes" in out
    assert "[ON ] CORS closed" in out
    with pytest.raises(CommandError, match="controls off"):
        call_command("security_report", "--strict")  # test settings: no TLS, console-free email etc.


def test_production_settings_enforce_mfa_and_never_switch_it_off():  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "p" * 60,
        "HARBOR_FIELD_KEYS": "Jf0T2b1YQ2l0xGv7T4m8yGk0k2bJq3Zp9mX1cV5bN7s=",
        "HARBOR_BLIND_INDEX_KEY": "blind-index-key-for-this-test",
        "HARBOR_AUDIT_KEY": "audit-key-for-this-test",
        "ALLOWED_HOSTS": "harbor.example",
        "DATABASE_URL": "sqlite:////tmp/harbor-prod-settings-test.sqlite3",
        "HARBOR_MFA_ENFORCED": "false",
    }
    code = "from django.conf import settings; print(settings.HARBOR_MFA_ENFORCED, settings.DEBUG)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "True False"
