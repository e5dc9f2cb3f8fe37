"""The watchdog (SPEC §7, issue 18): beat stops, nothing is swept, and within minutes the system
admins have an email (no case detail), an alert line is written, readiness is 503 naming the
sweep and `manage.py check_liveness` exits non-zero."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from ops.heartbeats import AUDIT_SEAL, heartbeat_record
from ops.tasks import watchdog_task
from ops.watchdog import watchdog_check, watchdog_timer_start
from tests.cases.factories import create_referral
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def admins(agencies):  # type: ignore[no-untyped-def]
    root = UserFactory(
        username="root", agency=None, role="system_admin", is_superuser=True, email="root@county.invalid"
    )
    ops = UserFactory(username="ops", agency=None, role="system_admin", email="ops@county.invalid")
    UserFactory(username="gone", agency=None, role="system_admin", email="gone@county.invalid", is_active=False)
    UserFactory(username="worker", agency=agencies["DCFS"], role="case_worker", email="cw@county.invalid")
    UserFactory(username="aa", agency=agencies["DCFS"], role="agency_admin", email="aa@county.invalid")
    return root, ops


@pytest.fixture
def bootstrapped(db):  # type: ignore[no-untyped-def]
    from cases import bootstrap

    bootstrap.run()
    __import__("notifications.bootstrap").bootstrap.run()


def _beat_sweeps() -> None:
    """What beat does every minute: the sweep (and the seal) run and beat their heartbeats."""
    from audit.tasks import audit_seal_task
    from notifications.tasks import sweep_deadlines_task

    sweep_deadlines_task.apply()
    audit_seal_task.apply()


def test_beat_stopped_for_five_minutes_emails_the_system_admins_once(admins, agencies, bootstrapped, caplog):
    # given: a referral in flight (its youth's name must not reach the email), and beat sweeping
    referrer = UserFactory(agency=agencies["DCFS"], role="case_worker")
    with time_machine.travel(T0, tick=False):
        create_referral(referrer, receiving_agency=agencies["DCFS"], youth_data={"first_name": "Marisol"})
        _beat_sweeps()
        watchdog_check()
    assert mail.outbox == []

    # when: beat stops; the workers' watchdog keeps looking every minute
    for minute in range(1, 7):
        with time_machine.travel(T0 + dt.timedelta(minutes=minute), tick=False):
            heartbeat_record(AUDIT_SEAL)  # the seal runs on (a worker-side view of "beat alone stopped")
            with caplog.at_level(logging.ERROR, logger="ops.alert"):
                watchdog_check()

    # then: one email, to the active system admins only, naming the sweep and nothing of a case
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["ops@county.invalid", "root@county.invalid"]
    assert "sweep" in message.subject.lower()
    assert "6 min ago" in message.body
    for detail in ("Marisol", "Carter", "2010", "narrative", "DCFS"):
        assert detail not in message.body and detail not in message.subject
    alerts = [r for r in caplog.records if r.name == "ops.alert"]
    assert alerts and all(getattr(r, "alert", "") == "sweep_stopped" for r in alerts)
    assert "last completed sweep 5 min ago" in alerts[0].getMessage() or "6 min ago" in alerts[-1].getMessage()


def test_the_alert_repeats_hourly_and_not_after_the_sweep_is_back(admins):
    with time_machine.travel(T0, tick=False):
        _beat_sweeps()
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        assert watchdog_check().alerted
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        assert not watchdog_check().alerted
    with time_machine.travel(T0 + dt.timedelta(minutes=67), tick=False):
        assert watchdog_check().alerted
    # beat is back: no email while it sweeps; a new outage alerts again at once
    with time_machine.travel(T0 + dt.timedelta(minutes=70), tick=False):
        _beat_sweeps()
        assert watchdog_check().sweep_ok
    with time_machine.travel(T0 + dt.timedelta(minutes=76), tick=False):
        assert watchdog_check().alerted
    assert len(mail.outbox) == 3


def test_a_fresh_deployment_gets_five_minutes_before_its_first_sweep(admins):
    with time_machine.travel(T0, tick=False):
        assert watchdog_check().sweep_ok
    with time_machine.travel(T0 + dt.timedelta(minutes=4), tick=False):
        assert watchdog_check().sweep_ok
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        result = watchdog_check()
    assert not result.sweep_ok and result.alerted
    assert "never completed" in mail.outbox[0].body


def test_the_beat_task_runs_the_same_check(admins):
    with time_machine.travel(T0, tick=False):
        _beat_sweeps()
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        watchdog_task.apply()
    with time_machine.travel(T0 + dt.timedelta(minutes=8), tick=False):
        watchdog_task.apply()
    assert len(mail.outbox) == 1


def test_check_liveness_exits_non_zero_naming_the_sweep(admins, capsys):
    with time_machine.travel(T0, tick=False):
        _beat_sweeps()
        call_command("check_liveness")
        assert "LIVE: database ok, sweep ok, audit_seal ok" in capsys.readouterr().out
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        with pytest.raises(CommandError, match="NOT LIVE: sweep stale, audit_seal stale"):
            call_command("check_liveness")
        assert mail.outbox == []
        with pytest.raises(CommandError):
            call_command("check_liveness", "--notify")
    assert len(mail.outbox) == 1


def test_check_liveness_exit_code_for_cron(admins):
    import subprocess
    import sys

    from django.conf import settings

    # no sweep ever in this database: a fresh process says so with exit status 1
    done = subprocess.run(
        [sys.executable, "manage.py", "check_liveness"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT LIVE" in done.stderr


def test_readiness_goes_red_naming_the_sweep_when_beat_stops(admins, monkeypatch):
    from config.celery import app

    monkeypatch.setattr(app.control, "ping", lambda **kw: [{"celery@w": {"ok": "pong"}}])
    with time_machine.travel(T0, tick=False):
        _beat_sweeps()
        assert Client().get("/health/ready/").status_code == 200
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        heartbeat_record(AUDIT_SEAL)
        response = Client().get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["sweep"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_timer_runs_the_check_on_its_own(monkeypatch):
    import threading

    from ops import watchdog

    ran = threading.Event()
    monkeypatch.setattr(watchdog, "_timer", None)
    monkeypatch.setattr(watchdog, "watchdog_check", lambda **kw: ran.set())
    stop = watchdog_timer_start(interval=0.05)
    try:
        assert ran.wait(5)
    finally:
        stop.set()
