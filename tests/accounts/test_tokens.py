"""API tokens (SPEC §6): issued by POST /auth/token/, 30 minutes idle, 12 hours at most, stored hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from audit.models import AuditEvent
from core.permissions import Role
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def _token_for(username: str, password: str = TEST_PASSWORD) -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client, response.json()


def test_login_answers_a_token_and_its_expiry(dcfs_worker):
    with time_machine.travel(T0, tick=False):
        # when
        _, body = _token_for("dcfs_worker")

    # then
    assert set(body) == {"token", "expires_at"}
    assert len(body["token"]) >= 32
    assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(minutes=30)


def test_the_token_identifies_the_user_on_me(dcfs_worker):
    # given
    client, _ = _token_for("dcfs_worker")

    # when
    response = client.get("/api/v1/me/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "username", "name", "agency", "role")} == {
        "id": dcfs_worker.pk,
        "username": "dcfs_worker",
        "name": dcfs_worker.get_full_name(),
        "agency": "DCFS",
        "role": Role.CASE_WORKER,
    }


def test_login_and_logout_are_audited_naming_the_token_without_its_secret(dcfs_worker):
    # when
    client, body = _token_for("dcfs_worker")
    client.post("/api/v1/auth/logout/")

    # then
    events = list(AuditEvent.objects.filter(actor_id=dcfs_worker.pk).order_by("id"))
    assert [e.action for e in events] == [
        AuditEvent.Action.LOGIN,
        AuditEvent.Action.TOKEN_CREATED,
        AuditEvent.Action.LOGOUT,
    ]
    created, logout = events[1], events[2]
    assert created.object_type == "token"
    assert len(created.object_id) == 16
    assert logout.detail == {"token": created.object_id}
    token = body["token"]
    assert all(token[:8] not in f"{e.object_id}{e.detail}" for e in events)


@pytest.mark.parametrize(
    ("username", "password"),
    [("dcfs_worker", "wrong-password-123"), ("nobody-by-that-name", "wrong-password-123")],
)
def test_bad_credentials_answer_one_plain_400(dcfs_worker, username, password):
    # when
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password})

    # then: the same answer for a wrong password and an unknown user
    assert response.status_code == 400
    assert response.json() == {"detail": "Unable to log in with those credentials.", "code": "invalid"}


def test_an_inactive_user_cannot_log_in(dcfs_admin, dcfs_worker):
    # given
    services.user_deactivate(actor=dcfs_admin, user=dcfs_worker)

    # when
    response = APIClient().post("/api/v1/auth/token/", {"username": "dcfs_worker", "password": TEST_PASSWORD})

    # then
    assert response.status_code == 400


def test_use_within_30_minutes_keeps_the_token_alive_and_31_idle_minutes_end_it(dcfs_worker):
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        client, _ = _token_for("dcfs_worker")

        # when: used every 29 minutes for a while
        alive = []
        for _ in range(4):
            traveller.shift(timedelta(minutes=29))
            alive.append(client.get("/api/v1/me/").status_code)

        # and then left alone for 31 minutes
        traveller.shift(timedelta(minutes=31))
        idle = client.get("/api/v1/me/")

    # then
    assert alive == [200, 200, 200, 200]
    assert idle.status_code == 401


def test_a_token_never_used_dies_after_30_minutes(dcfs_worker):
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        client, _ = _token_for("dcfs_worker")

        # when
        traveller.shift(timedelta(minutes=29))
        at_29 = client.get("/api/v1/me/").status_code
        traveller.shift(timedelta(minutes=31))
        at_60 = client.get("/api/v1/me/").status_code

    # then
    assert (at_29, at_60) == (200, 401)


def test_constant_use_cannot_keep_a_token_past_12_hours(dcfs_worker):
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        client, _ = _token_for("dcfs_worker")

        # when: used every 10 minutes up to 11 h 50
        statuses = set()
        for _ in range(71):
            traveller.shift(timedelta(minutes=10))
            statuses.add(client.get("/api/v1/me/").status_code)
        # and once more just past 12 hours (only 11 minutes after the last use)
        traveller.shift(timedelta(minutes=11))
        past_12h = client.get("/api/v1/me/")

    # then
    assert statuses == {200}
    assert past_12h.status_code == 401
    assert not AuthToken.objects.filter(user=dcfs_worker).exists()


def test_logout_ends_the_token(dcfs_worker):
    # given
    client, _ = _token_for("dcfs_worker")
    other_client, _ = _token_for("dcfs_worker")

    # when
    logout = client.post("/api/v1/auth/logout/")

    # then
    assert logout.status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    # Only that token ends; another session of the same person goes on.
    assert other_client.get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(actor_id=dcfs_worker.pk, action=AuditEvent.Action.LOGOUT).exists()


def test_deactivating_the_user_ends_every_token_at_once(dcfs_admin, dcfs_worker):
    # given
    first, _ = _token_for("dcfs_worker")
    second, _ = _token_for("dcfs_worker")

    # when
    services.user_deactivate(actor=dcfs_admin, user=dcfs_worker)

    # then
    assert first.get("/api/v1/me/").status_code == 401
    assert second.get("/api/v1/me/").status_code == 401
    assert not AuthToken.objects.filter(user=dcfs_worker).exists()


def test_deactivating_by_patch_ends_the_tokens_too(dcfs_admin, dcfs_worker):
    # given
    client, _ = _token_for("dcfs_worker")

    # when
    services.user_update(actor=dcfs_admin, user=dcfs_worker, data={"is_active": False})

    # then
    assert client.get("/api/v1/me/").status_code == 401


def test_tokens_are_stored_hashed(dcfs_worker):
    # given
    _, body = _token_for("dcfs_worker")
    token = body["token"]

    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        rows = cursor.fetchall()

    # then: no column of the stored row holds the token
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])


@pytest.mark.parametrize(
    "header",
    ["", "Token", "Token not-a-real-token", "Token a b", "Bearer abc", "Token " + "x" * 300],
)
def test_missing_or_bad_tokens_are_401(dcfs_worker, header):
    # given
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    # when
    response = client.get("/api/v1/me/")

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_authenticating_reads_only_the_presented_token_and_login_tidies_expired_ones(dcfs_worker):
    # given a token that expired and a live one
    with time_machine.travel(T0, tick=False):
        _token_for("dcfs_worker")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        client, _ = _token_for("dcfs_worker")
        assert AuthToken.objects.filter(user=dcfs_worker).count() == 1  # the login deleted the expired one
        with time_machine.travel(T0 - timedelta(days=1), tick=False):
            _token_for("dcfs_worker")  # one more, expired by the time it is used below
        assert AuthToken.objects.filter(user=dcfs_worker).count() == 2

        # when the live token is used
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/me/").status_code == 200

    # then authentication read the presented token alone (knox would also load and delete the others)
    token_reads = [q["sql"] for q in queries.captured_queries if "knox_authtoken" in q["sql"]]
    assert len(token_reads) == 1 and token_reads[0].startswith("SELECT")
    assert AuthToken.objects.filter(user=dcfs_worker).count() == 2


def test_expired_tokens_of_anyone_are_purged_hourly(dcfs_worker, settings):
    from accounts.tasks import tokens_purge_expired_task

    # given a token that expires at T0 + 30 min and one issued an hour later (no login between)
    with time_machine.travel(T0, tick=False):
        AuthToken.objects.create(user=dcfs_worker)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        AuthToken.objects.create(user=dcfs_worker)
    # when the purge runs
    with time_machine.travel(T0 + timedelta(hours=1, minutes=10), tick=False):
        purged = tokens_purge_expired_task()

    # then only the live one is left, and beat runs the purge every hour
    assert purged == 1
    assert list(AuthToken.objects.filter(user=dcfs_worker).values_list("expiry", flat=True)) == [
        T0 + timedelta(hours=1, minutes=30)
    ]
    assert settings.CELERY_BEAT_SCHEDULE["tokens-purge-expired"]["schedule"] == 3600.0
