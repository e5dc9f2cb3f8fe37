"""Fault tests (SPEC §3, §8): a killed worker, a flushed Redis, two sweeps at once, a database
briefly unreachable — each ends with every expected notification sent exactly once.

Real PostgreSQL, real Redis, real Celery worker processes (prefork, two children) on a queue of
their own; emails go to a file backend and are counted per notification id."""

from __future__ import annotations

import os
import threading

import psycopg
import pytest
import redis
from django.db import connection, connections

from notifications.models import Notification
from notifications.services.delivery import SEND_BATCH, notifications_redeliver
from notifications.services.sweep import deadlines_sweep
from tests.notifications.harness import (
    FlakyProxy,
    Harness,
    all_sent,
    assert_exactly_once,
    database_url_for_workers,
    due_notifications,
    now_plus,
    pending_ids,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def harness(transactional_db, tmp_path, settings):  # type: ignore[no-untyped-def]
    h = Harness(tmp_path)
    settings.HARBOR_NOTIFICATIONS_QUEUE = h.queue  # this process enqueues onto the test's queue
    yield h
    h.stop_all()


def _blocked_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(harness):
    """1,000 reminders; the worker is SIGKILLed (parent and pool children) half-way, with two
    sends in flight; another worker and the redeliver step finish the batch, each email once."""
    # given 1,000 notifications, swept and enqueued before any worker runs
    due_notifications(deadlines=100, team_size=10)
    result = deadlines_sweep(redeliver=False)
    ids = pending_ids()
    assert result.notifications == len(ids) == 1000

    # hold rows in two send batches (SEND_BATCH ids per message), so the kill lands while both
    # pool processes are inside a send (deterministically before its email: a kill between the
    # mail server's acceptance and the commit is the one documented window that can double one)
    assert SEND_BATCH == 50
    held = ids[500:505] + ids[700:705]
    blocker = psycopg.connect(database_url_for_workers().replace("postgres://", "postgresql://"), autocommit=False)
    try:
        blocker.execute("SELECT id FROM notifications_notification WHERE id = ANY(%s) FOR UPDATE", [held])

        first = harness.start_worker()
        wait_until(lambda: _blocked_on_locks() >= 2, timeout=40, what="both pool processes to be mid-send")
        # batches 0-9 and 11-13 went out; 10 and 14 are stuck at their first id, 15-19 untouched
        assert 500 <= sum(harness.emails().values()) <= 900

        # when the worker is killed outright
        harness.kill(first)
    finally:
        blocker.rollback()
        blocker.close()

    # then a new worker and the redeliver step (what the next sweeps run) finish the batch
    harness.start_worker()
    notifications_redeliver(now=now_plus(hours=1))
    wait_until(all_sent(1000), timeout=60, what="every notification to be sent")

    assert_exactly_once(harness, ids)


def test_a_flushed_redis_between_sweep_and_send_loses_nothing(harness):
    due_notifications(deadlines=20, team_size=3)
    deadlines_sweep(redeliver=False)
    ids = pending_ids()
    assert len(ids) == 60

    # when the broker loses every message before any worker took one (FLUSHALL in CI; locally
    # FLUSHDB of the broker's database, so other suites sharing the server keep theirs)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushall() if IN_CI else client.flushdb()
    worker = harness.start_worker()

    # nothing arrives: the messages are gone, the rows are still pending
    assert sum(harness.emails().values()) == 0
    assert len(pending_ids()) == 60

    # then the redeliver step re-enqueues what waited past its grace, and all go out once
    assert notifications_redeliver(now=now_plus(minutes=10)) == 60
    wait_until(all_sent(60), timeout=40, what="every notification to be sent")
    assert_exactly_once(harness, ids)
    assert "Traceback" not in harness.log(worker)


def test_two_sweeps_at_the_same_moment_create_each_reminder_once(harness):
    due_notifications(deadlines=300, team_size=2)
    barrier = threading.Barrier(2)
    results = []
    errors = []

    def sweeper() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(deadlines_sweep(batch_size=10, redeliver=False))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    # when two sweepers (each with its own database connection) start together
    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then each deadline was claimed by exactly one of them, and each reminder exists once
    assert not errors
    assert sum(r.deadlines for r in results) == 300
    assert sum(r.notifications for r in results) == Notification.objects.count() == 600
    ids = pending_ids()
    harness.start_worker()
    wait_until(all_sent(600), timeout=60, what="every notification to be sent")
    assert_exactly_once(harness, ids)


def test_a_database_briefly_unreachable_during_sends_is_retried_not_lost(harness):
    settings_dict = connection.settings_dict
    proxy = FlakyProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432))
    try:
        due_notifications(deadlines=10, team_size=2)
        deadlines_sweep(redeliver=False)
        ids = pending_ids()

        # given the database is unreachable for the worker when its sends start
        proxy.down()
        worker = harness.start_worker(
            database_url=database_url_for_workers(host="127.0.0.1", port=proxy.port),
            HARBOR_NOTIFICATION_RETRY_BASE="0.5",
        )
        wait_until(lambda: "Retry in" in harness.log(worker), timeout=30, what="a send to fail and be retried")
        assert sum(harness.emails().values()) == 0

        # when it comes back
        proxy.restore()

        # then the retries (with back-off) send every email, once
        wait_until(all_sent(len(ids)), timeout=45, what="every notification to be sent")
        assert_exactly_once(harness, ids)
        assert proxy.refused > 0
        assert "OperationalError" in harness.log(worker)
        # a database outage is not a mail failure: one attempt each, all sent
        assert set(Notification.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    finally:
        proxy.close()


def test_a_late_double_sweep_over_settled_and_superseded_deadlines_sends_each_latest_stage_once(harness):
    """The new states under faults: a sweep late by a day (stages superseded), some deadlines
    settled as not applicable meanwhile (a declined referral), two sweepers at once and a
    flushed broker before the sends — each latest-stage reminder goes out exactly once, none for
    the settled deadlines, and every superseded stage is recorded once."""
    from notifications.models import Deadline
    from notifications.services.deadlines import deadline_settle

    # given 100 services clocks whose overdue stage passed a day ago (upcoming and due unsent)
    ids = due_notifications(deadlines=100, team_size=2, hours_ago=97)
    settled = Deadline.objects.filter(pk__in=ids[:20]).select_related("referral")
    for deadline in settled:
        deadline_settle(
            rule_code="frp_services_72h", target=deadline.referral, status="not_applicable", reason="referral declined"
        )

    # when two sweepers start together
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweeper() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(deadlines_sweep(batch_size=7, redeliver=False))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sum(r.deadlines for r in results) == 80

    # then only the overdue stage was created: the two responsible workers; no supervisor exists
    swept = Notification.objects.filter(deadline_id__in=ids)
    assert set(swept.values_list("stage", flat=True)) == {"overdue"}
    assert swept.count() == 160
    assert not swept.filter(deadline_id__in=ids[:20]).exists()
    for deadline in Deadline.objects.filter(pk__in=ids[20:]):
        assert [s["stage"] for s in deadline.superseded_stages] == ["upcoming", "due"]
        assert deadline.status == "missed"
    assert set(Deadline.objects.filter(pk__in=ids[:20]).values_list("status", flat=True)) == {"not_applicable"}

    # and a flushed broker loses none of the sends, a second late sweep adds none
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushall() if IN_CI else client.flushdb()
    pending = pending_ids()
    assert deadlines_sweep(redeliver=False).notifications == 0
    harness.start_worker()
    notifications_redeliver(now=now_plus(minutes=10))
    wait_until(all_sent(160), timeout=60, what="every notification to be sent")
    assert_exactly_once(harness, pending)
