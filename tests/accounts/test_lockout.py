"""Login lockout (SPEC §8): 5 failures for one username lock it for 10 minutes, on the API and the
admin login alike, and every failure and lockout is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
WRONG = "not-the-password-0"


def _api_login(username: str, password: str) -> int:
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}).status_code


def _admin_login(username: str, password: str) -> int:
    return Client().post("/admin/login/", {"username": username, "password": password, "next": "/admin/"}).status_code


def test_five_failures_lock_the_api_login_for_ten_minutes(dcfs_worker):
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        failures = [_api_login("dcfs_worker", WRONG) for _ in range(5)]

        # when: the sixth attempt carries the right password
        sixth = _api_login("dcfs_worker", TEST_PASSWORD)
        traveller.shift(timedelta(minutes=9, seconds=59))
        still_locked = _api_login("dcfs_worker", TEST_PASSWORD)
        traveller.shift(timedelta(minutes=10, seconds=2))
        after_cool_off = _api_login("dcfs_worker", TEST_PASSWORD)

    # then
    assert failures[:4] == [400, 400, 400, 400]
    assert failures[4] in (400, 429)
    assert sixth == 429
    assert still_locked == 429
    assert after_cool_off == 200


def test_the_lockout_answer_is_plain(dcfs_worker):
    # given
    for _ in range(5):
        _api_login("dcfs_worker", WRONG)

    # when
    response = APIClient().post("/api/v1/auth/token/", {"username": "dcfs_worker", "password": TEST_PASSWORD})

    # then
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed attempts; try again later.", "code": "throttled"}


def test_lockout_is_per_username(dcfs_worker, dcfs_admin):
    # given
    for _ in range(6):
        _api_login("dcfs_worker", WRONG)

    # when
    other = _api_login("dcfs_admin", TEST_PASSWORD)

    # then
    assert other == 200


def test_a_successful_login_resets_the_failure_count(dcfs_worker):
    with time_machine.travel(T0, tick=False):
        # given: four failures, then the right password
        for _ in range(4):
            _api_login("dcfs_worker", WRONG)
        assert _api_login("dcfs_worker", TEST_PASSWORD) == 200

        # when: four more failures (eight within ten minutes, but never five in a row)
        later = [_api_login("dcfs_worker", WRONG) for _ in range(4)]
        final = _api_login("dcfs_worker", TEST_PASSWORD)

    # then
    assert later == [400, 400, 400, 400]
    assert final == 200


def test_five_failures_lock_the_admin_login(dcfs_admin):
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        failures = [_admin_login("dcfs_admin", WRONG) for _ in range(5)]

        # when
        sixth = _admin_login("dcfs_admin", TEST_PASSWORD)
        traveller.shift(timedelta(minutes=10, seconds=1))
        after_cool_off = _admin_login("dcfs_admin", TEST_PASSWORD)

    # then
    assert failures[:4] == [200, 200, 200, 200]  # the login form again, with an error
    assert failures[4] in (200, 429)
    assert sixth == 429
    assert after_cool_off == 302


def test_failures_on_the_api_count_toward_the_admin_lockout(dcfs_admin):
    # given
    for _ in range(5):
        _api_login("dcfs_admin", WRONG)

    # when
    response = _admin_login("dcfs_admin", TEST_PASSWORD)

    # then
    assert response == 429


def test_failures_and_lockout_are_audited(dcfs_worker):
    # given
    for _ in range(5):
        _api_login("dcfs_worker", WRONG)

    # when
    _api_login("dcfs_worker", TEST_PASSWORD)

    # then
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, object_id=str(dcfs_worker.pk))
    lockouts = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKOUT, object_id=str(dcfs_worker.pk))
    assert failed.count() >= 5
    assert lockouts.exists()
    assert {e.outcome for e in failed} == {AuditEvent.Outcome.FAILURE}
    assert {e.outcome for e in lockouts} == {AuditEvent.Outcome.DENIED}
    assert all(e.request_id and e.actor_id is None for e in [*failed, *lockouts])
    # The attempted passwords never reach the audit log.
    assert not AuditEvent.objects.filter(detail__icontains=WRONG).exists()
    assert not AuditEvent.objects.filter(detail__icontains=TEST_PASSWORD).exists()


def test_failures_for_an_unknown_username_are_audited_without_the_name(db):
    # when
    _api_login("no-such-person", WRONG)

    # then
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.object_id == ""
    assert "no-such-person" not in str(event.detail)


@pytest.fixture
def tight_auth_throttle(monkeypatch):  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min", "invitation": "1000/hour"})
    yield
    cache.clear()


def test_the_token_endpoint_is_throttled_per_address(db, tight_auth_throttle):
    # when: one address tries a different username each time (password spraying)
    statuses = [_api_login(f"user{i}", WRONG) for i in range(4)]

    # then
    assert statuses == [400, 400, 400, 429]


def test_a_client_sent_x_forwarded_for_does_not_dodge_the_throttle(db, tight_auth_throttle):
    # when: the same client claims a new forwarded address on every attempt
    statuses = [
        APIClient()
        .post("/api/v1/auth/token/", {"username": f"user{i}", "password": WRONG}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        .status_code
        for i in range(4)
    ]

    # then
    assert statuses == [400, 400, 400, 429]
