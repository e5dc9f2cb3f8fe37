"""/health/ready/ (SPEC §7): database, broker, a sweep in the last 5 minutes, a worker that
answers a ping, the audit sealed within a minute; 503 naming the failing part, nothing secret."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from ops.heartbeats import AUDIT_SEAL, SWEEP, heartbeat_last, heartbeat_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_answers(monkeypatch):  # type: ignore[no-untyped-def]
    """A worker that answers the broadcast ping (no worker runs in the test process)."""
    from config.celery import app

    monkeypatch.setattr(app.control, "ping", lambda **kw: [{"celery@test": {"ok": "pong"}}])


def _beat_now() -> None:
    heartbeat_record(SWEEP)
    heartbeat_record(AUDIT_SEAL)


def test_ready_when_every_part_is_ok(worker_answers):
    # given
    _beat_now()

    # when
    response = Client().get("/health/ready/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failing": [],
        "database": "ok",
        "broker": "ok",
        "sweep": "ok",
        "worker": "ok",
        "audit_seal": "ok",
    }


def test_a_sweep_older_than_five_minutes_is_named(worker_answers):
    # given: the last sweep six minutes ago, the seal just now
    heartbeat_record(SWEEP, at=timezone.now() - dt.timedelta(minutes=6))
    heartbeat_record(AUDIT_SEAL)

    # when
    response = Client().get("/health/ready/")

    # then
    assert response.status_code == 503
    assert response.json()["failing"] == ["sweep"]
    assert response.json()["sweep"] == "stale"


def test_a_service_that_never_swept_is_not_ready(worker_answers):
    heartbeat_record(AUDIT_SEAL)

    response = Client().get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["failing"] == ["sweep"]
    assert response.json()["sweep"] == "never"


def test_an_audit_seal_older_than_a_minute_is_named(worker_answers):
    heartbeat_record(SWEEP)
    heartbeat_record(AUDIT_SEAL, at=timezone.now() - dt.timedelta(seconds=90))

    response = Client().get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["failing"] == ["audit_seal"]


def test_no_worker_consuming_is_named(monkeypatch):
    # given: beat ran, but no worker answers the ping
    from config.celery import app

    monkeypatch.setattr(app.control, "ping", lambda **kw: [])
    _beat_now()

    # when
    response = Client().get("/health/ready/")

    # then
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert response.json()["worker"] == "no_reply"


def test_a_broker_down_names_the_broker_and_says_nothing_secret(monkeypatch, settings):
    from config.celery import app

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("redis://:hunter2@10.0.0.5:6379/0 refused")

    monkeypatch.setattr(app, "connection_for_write", refuse)
    _beat_now()

    response = Client().get("/health/ready/")

    assert response.status_code == 503
    body = response.content.decode()
    assert response.json()["failing"] == ["broker", "worker"]
    assert response.json()["broker"] == "unavailable"
    for secret in ("hunter2", "10.0.0.5", "redis://", "Refused", "refused"):
        assert secret not in body
    assert not re.search(r"\d+\.\d+", body)


def test_the_sweep_and_seal_tasks_record_their_heartbeats():
    # given: the tasks as the worker runs them (task_success is sent for an applied task too)
    from audit.tasks import audit_seal_task
    from notifications.tasks import sweep_deadlines_task

    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        # when
        sweep_deadlines_task.apply()
        audit_seal_task.apply()

        # then
        assert heartbeat_last(SWEEP) == timezone.now()
        assert heartbeat_last(AUDIT_SEAL) == timezone.now()


def test_a_failing_sweep_records_no_heartbeat(monkeypatch):
    from notifications import tasks

    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("sweep broke")

    monkeypatch.setattr(tasks, "deadlines_sweep", broken)

    tasks.sweep_deadlines_task.apply()

    assert heartbeat_last(SWEEP) is None


def test_ready_needs_no_token(worker_answers):
    _beat_now()
    assert Client().get("/health/ready/", HTTP_AUTHORIZATION="Token rubbish").status_code == 200
