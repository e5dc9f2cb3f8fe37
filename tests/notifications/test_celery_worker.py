"""A reminder travels from the beat task's sweep, through a real Celery worker on the real
Redis, to the locmem outbox and the inbox API (the worker runs in this process, in a thread,
so Django's locmem outbox is the one it fills)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from config.celery import app as celery_app
from notifications.models import Notification
from notifications.services.deadlines import deadline_open
from notifications.tasks import sweep_deadlines_task
from tests.notifications import factories as f
from tests.notifications.factories import YOUTH_FIRST
from tests.notifications.harness import wait_until


@pytest.mark.redis
def test_a_reminder_travels_from_the_sweep_to_the_outbox_and_the_inbox(transactional_db, cast, settings, make_client):
    queue = f"harbor-test-{uuid.uuid4().hex[:12]}"
    settings.HARBOR_NOTIFICATIONS_QUEUE = queue
    assert celery_app.conf.broker_url.startswith("redis://")
    # given a referral whose telephone report was 25 hours ago, its clock opened by the service
    reported = timezone.now() - dt.timedelta(hours=25)
    referral = f.ReferralFactory(created_by=cast.dcfs_worker, hotline_reported_at=reported)
    deadline_open(rule_code="written_report_36h", target=referral, starts_at=reported, actor=cast.dcfs_worker)

    # when beat's task runs on a real worker (which then runs the send task it enqueued)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30):
            sweep_deadlines_task.apply_async(queue=queue)
            wait_until(lambda: len(mail.outbox) == 1, timeout=30, what="the reminder email")
            wait_until(
                lambda: Notification.objects.filter(delivery_status="sent").exists(),
                timeout=10,
                what="the row marked sent",
            )
    finally:
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )

    # then the email and the inbox carry the reminder, and nothing identifying
    (email,) = mail.outbox
    assert email.to == [cast.dcfs_worker.email]
    assert email.subject == f"[Safe Harbor] Upcoming: written report due — Referral R-{referral.pk}"
    assert YOUTH_FIRST not in email.body
    inbox = make_client(cast.dcfs_worker).get("/api/v1/notifications/").json()["results"]
    assert [(n["rule"], n["stage"], n["delivery_status"]) for n in inbox] == [
        ("written_report_36h", "upcoming", "sent")
    ]
