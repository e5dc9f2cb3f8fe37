"""Sending: at most once per notification, retried with back-off, ending in sent or a visible
failed; lost messages recovered by the redeliver step; agenda notices; the sync command."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command

from notifications.models import Notification, NotificationDelivery
from notifications.services import delivery, inbox
from notifications.services.delivery import notification_send, notifications_redeliver, retry_backoff
from notifications.services.notices import meeting_members_notify
from notifications.services.sweep import deadlines_sweep
from notifications.tasks import notification_send_many_task, notification_send_task
from tests.notifications.factories import YOUTH_FIRST, YOUTH_LAST
from tests.notifications.support import T0, H, all_email_text, build_world, open_rule


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    return build_world(cast)


@pytest.fixture
def pending(world, clock):  # type: ignore[no-untyped-def]
    """One pending notification (the written-report upcoming reminder), its send not yet run."""
    open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)
    deadlines_sweep(redeliver=False)
    return Notification.objects.get()


class FlakyBackend(BaseEmailBackend):
    """A mail backend that fails the first `failures` sends."""

    failures = 0
    calls = 0

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise ConnectionRefusedError("smtp.example.invalid refused jane@example.invalid")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.FlakyBackend"
    FlakyBackend.calls = 0
    return FlakyBackend


def test_a_send_goes_out_once_and_is_recorded(pending):
    # when
    first = notification_send(notification_id=pending.pk)
    second = notification_send(notification_id=pending.pk)  # a redelivered message

    # then
    assert (first.outcome, second.outcome) == ("sent", "already")
    assert len(mail.outbox) == 1
    pending.refresh_from_db()
    assert (pending.delivery_status, pending.attempts, pending.redeliver_after) == ("sent", 1, None)
    assert list(pending.deliveries.values_list("outcome", "error_class")) == [("sent", "")]
    message = mail.outbox[0].message()
    assert message["X-Harbor-Notification"] == str(pending.pk)
    assert message["Message-ID"] == f"<harbor-notification-{pending.pk}@safeharbor.invalid>"


def test_a_mail_error_is_retried_with_back_off_then_sent(pending, flaky, settings):
    settings.HARBOR_NOTIFICATION_RETRY_BASE = 30
    flaky.failures = 2

    first = notification_send(notification_id=pending.pk)
    pending.refresh_from_db()
    assert first.outcome == "retry" and 30 <= first.retry_in <= 33
    assert pending.delivery_status == "pending" and pending.attempts == 1
    # the redeliver step waits for the back-off
    assert pending.redeliver_after >= T0 + 24 * H + dt.timedelta(seconds=30)

    second = notification_send(notification_id=pending.pk)
    assert second.outcome == "retry" and 60 <= second.retry_in <= 66
    assert notification_send(notification_id=pending.pk).outcome == "sent"

    pending.refresh_from_db()
    assert (pending.delivery_status, pending.attempts) == ("sent", 3)
    log = list(pending.deliveries.values_list("outcome", "error_class"))
    assert log == [("error", "ConnectionRefusedError"), ("error", "ConnectionRefusedError"), ("sent", "")]
    assert len(mail.outbox) == 1


def test_retries_end_in_a_visible_failed_state(pending, flaky, settings, make_client, cast):
    settings.HARBOR_NOTIFICATION_MAX_ATTEMPTS = 3
    flaky.failures = 99

    outcomes = [notification_send(notification_id=pending.pk).outcome for _ in range(4)]

    assert outcomes == ["retry", "retry", "failed", "already"]
    pending.refresh_from_db()
    assert (pending.delivery_status, pending.attempts, pending.redeliver_after) == ("failed", 3, None)
    assert list(pending.deliveries.values_list("outcome", flat=True)) == ["error", "error", "failed"]
    # the error's message (an address, server text) is never stored
    assert not NotificationDelivery.objects.filter(error_class__contains="@").exists()
    # the inbox still has it, and shows the failure
    row = make_client(cast.sheriff_worker).get("/api/v1/notifications/").json()["results"][0]
    assert row["delivery_status"] == "failed"


def test_the_task_retries_through_celery(pending, flaky, eager_celery, settings):
    settings.HARBOR_NOTIFICATION_RETRY_BASE = 0.01
    flaky.failures = 1

    notification_send_task.delay(pending.pk)

    pending.refresh_from_db()
    assert (pending.delivery_status, pending.attempts) == ("sent", 2)


def test_the_task_retries_when_the_database_is_unreachable(pending, eager_celery, settings):
    from django.db import OperationalError

    settings.HARBOR_NOTIFICATION_RETRY_BASE = 0.01
    real = delivery.notification_send
    calls = []

    def unreachable_once(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    with mock.patch("notifications.tasks.notification_send", side_effect=unreachable_once):
        notification_send_task.delay(pending.pk)

    pending.refresh_from_db()
    assert len(calls) == 2
    assert pending.delivery_status == "sent"
    assert len(mail.outbox) == 1


@pytest.fixture
def four_pending(world, clock):  # type: ignore[no-untyped-def]
    """Four pending notifications from one sweep (a written-report reminder to its creator, an
    overdue NCMEC report to the worker and two supervisors), their sends not yet run."""
    open_rule(world, "written_report_36h")
    open_rule(world, "missing_ncmec_24h")
    clock.move_to(T0 + 36 * H)
    deadlines_sweep(redeliver=False)
    pending = list(Notification.objects.order_by("id").values_list("id", flat=True))
    assert len(pending) == 4
    return pending


def test_the_sweep_enqueues_its_sends_in_batches(world, clock, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(delivery, "SEND_BATCH", 3)
    open_rule(world, "written_report_36h")
    open_rule(world, "missing_ncmec_24h")
    clock.move_to(T0 + 36 * H)

    with mock.patch.object(notification_send_many_task, "delay") as enqueued:
        with django_capture_on_commit_callbacks(execute=True):
            deadlines_sweep(redeliver=False)

    batches = [c.args[0] for c in enqueued.call_args_list]
    assert [len(b) for b in batches] == [3, 1]
    assert sorted(pk for b in batches for pk in b) == sorted(Notification.objects.values_list("id", flat=True))


def test_a_batch_sends_each_notification_once_even_when_delivered_twice(four_pending, eager_celery):
    first = notification_send_many_task.delay(four_pending).get()
    second = notification_send_many_task.delay(four_pending).get()  # the broker redelivered it

    assert (first, second) == ({"sent": 4}, {"already": 4})
    assert len(mail.outbox) == 4
    assert set(Notification.objects.values_list("delivery_status", "attempts")) == {("sent", 1)}


def test_a_failed_send_in_a_batch_is_retried_alone(four_pending, flaky, eager_celery, settings):
    settings.HARBOR_NOTIFICATION_RETRY_BASE = 0.01
    flaky.failures = 1  # the first send of the batch fails once

    notification_send_many_task.delay(four_pending)

    assert len(mail.outbox) == 4  # each once: the retry re-sent only the one that failed
    attempts = dict(Notification.objects.values_list("id", "attempts"))
    assert attempts == {four_pending[0]: 2, **{pk: 1 for pk in four_pending[1:]}}
    assert set(Notification.objects.values_list("delivery_status", flat=True)) == {"sent"}


def test_a_batch_resumes_where_the_database_went_away(four_pending, eager_celery, settings):
    from django.db import OperationalError

    settings.HARBOR_NOTIFICATION_RETRY_BASE = 0.01
    real = delivery.notification_send
    calls: list[int] = []

    def unreachable_at_the_third(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["notification_id"])
        if len(calls) == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    with mock.patch("notifications.tasks.notification_send", side_effect=unreachable_at_the_third):
        notification_send_many_task.delay(four_pending)

    # the retry carried only the rest of the batch
    assert calls == [*four_pending[:3], *four_pending[2:]]
    assert len(mail.outbox) == 4
    assert set(Notification.objects.values_list("delivery_status", flat=True)) == {"sent"}


def test_one_notification_that_raises_does_not_hold_up_its_batch(four_pending, eager_celery):
    real = delivery.notification_send

    def broken_second(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["notification_id"] == four_pending[1]:
            raise ValueError("unexpected")
        return real(**kwargs)

    with mock.patch("notifications.tasks.notification_send", side_effect=broken_second):
        outcomes = notification_send_many_task.delay(four_pending).get()

    assert outcomes == {"sent": 3, "error": 1}
    assert len(mail.outbox) == 3
    # the one that raised is still pending: the redeliver step will try it again
    assert Notification.objects.get(pk=four_pending[1]).delivery_status == "pending"


def test_a_retry_from_a_batch_goes_to_the_notifications_queue(four_pending, flaky, settings):
    settings.HARBOR_NOTIFICATIONS_QUEUE = "harbor-notifications"
    flaky.failures = 1  # the first send of the batch fails once

    with mock.patch.object(notification_send_task, "apply_async") as retried:
        notification_send_many_task.run(four_pending)

    retried.assert_called_once()
    assert retried.call_args.kwargs["args"] == [four_pending[0]]
    assert retried.call_args.kwargs["queue"] == "harbor-notifications"


def test_backoff_is_exponential_and_capped(settings):
    settings.HARBOR_NOTIFICATION_RETRY_BASE = 10
    settings.HARBOR_NOTIFICATION_RETRY_CAP = 100
    delays = [retry_backoff(n) for n in range(1, 7)]
    for delay, base in zip(delays, [10, 20, 40, 80, 100, 100], strict=True):
        assert base <= delay <= base * 1.1


def test_redeliver_requeues_only_what_waited_past_its_grace(
    pending, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.HARBOR_NOTIFICATION_REDELIVER_AFTER = 300
    # the message of the sweep was lost (the commit hooks never ran here)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_redeliver(now=T0 + 24 * H + dt.timedelta(seconds=299)) == 0
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_redeliver(now=T0 + 24 * H + dt.timedelta(seconds=300)) == 1

    pending.refresh_from_db()
    assert pending.delivery_status == "sent" and len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_redeliver(now=T0 + 48 * H) == 0


def test_the_sweep_runs_the_redeliver_step(pending, clock, eager_celery, django_capture_on_commit_callbacks):
    clock.move_to(T0 + 24 * H + dt.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        result = deadlines_sweep()

    assert result.redelivered == 1
    assert len(mail.outbox) == 1


def test_an_unavailable_broker_loses_nothing(world, clock, django_capture_on_commit_callbacks):
    open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)

    with mock.patch.object(notification_send_many_task, "delay", side_effect=ConnectionError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            deadlines_sweep()

    assert Notification.objects.get().delivery_status == "pending"  # the redeliver step will send it


# --- agenda notices ----------------------------------------------------------------------------------


def test_publishing_an_agenda_notifies_every_active_member(
    world, cast, eager_celery, django_capture_on_commit_callbacks, clock
):
    from accounts.services import user_deactivate
    from tests.notifications import factories as f

    gone = f.team_membership(world.team, cast.dmh_worker).user
    user_deactivate(actor=cast.system_admin, user=gone)

    with django_capture_on_commit_callbacks(execute=True):
        created = meeting_members_notify(meeting=world.meeting, event="published", actor=cast.mdt_coordinator)

    assert created == 2
    notices = Notification.objects.filter(meeting_id=world.meeting.pk)
    assert sorted(n.recipient.username for n in notices) == ["mdt_coordinator", "mdt_member"]
    assert {(n.rule, n.stage, n.reason, n.delivery_status) for n in notices} == {
        ("mdt_agenda", "notice", "member", "sent")
    }
    assert (
        sorted(m.subject for m in mail.outbox)
        == [f"[Safe Harbor] Agenda published — STAR meeting M-{world.meeting.pk}"] * 2
    )
    assert f"/app/mdt/meetings/{world.meeting.pk}/" in mail.outbox[0].body
    assert YOUTH_FIRST not in all_email_text() and YOUTH_LAST not in all_email_text()


def test_an_agenda_change_notifies_again_and_respects_preferences(
    world, cast, eager_celery, django_capture_on_commit_callbacks
):
    inbox.notification_preferences_update(user=cast.mdt_member, changes={"mdt_agenda": False}, actor=cast.mdt_member)

    with django_capture_on_commit_callbacks(execute=True):
        meeting_members_notify(meeting=world.meeting, event="published", actor=cast.mdt_coordinator)
        meeting_members_notify(meeting=world.meeting, event="changed", actor=cast.mdt_coordinator)

    assert Notification.objects.filter(recipient=cast.mdt_member).count() == 2
    assert [m.to for m in mail.outbox] == [[cast.mdt_coordinator.email]] * 2
    assert "Agenda changed" in mail.outbox[1].subject


# --- the synchronous command ---------------------------------------------------------------------------


def test_sweep_deadlines_command_runs_one_sweep_and_can_send(world, clock):
    open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)
    out = StringIO()

    call_command("sweep_deadlines", "--send", stdout=out)

    assert "deadlines swept: 1; notifications created: 1" in out.getvalue()
    assert "emails sent: 1" in out.getvalue()
    assert len(mail.outbox) == 1
    out = StringIO()
    call_command("sweep_deadlines", "--send", stdout=out)
    assert "deadlines swept: 0; notifications created: 0" in out.getvalue() and len(mail.outbox) == 1


def test_the_beat_schedule_runs_the_sweep_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deadlines-sweep"]
    assert entry == {"task": "notifications.tasks.sweep_deadlines_task", "schedule": 60.0}


def test_the_beat_task_is_the_commands_code(world, clock, eager_celery, django_capture_on_commit_callbacks):
    from notifications.tasks import sweep_deadlines_task

    open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)
    with django_capture_on_commit_callbacks(execute=True):
        result = sweep_deadlines_task()

    assert result == {"deadlines": 1, "notifications": 1, "redelivered": 0}
    assert len(mail.outbox) == 1
