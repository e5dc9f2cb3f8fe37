"""The supervisors' daily digest (a beat task) and failed emails shown to others (SPEC §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail

from notifications.models import DailyDigest, Notification
from notifications.services.delivery import notification_send
from notifications.services.digest import digests_send
from notifications.services.sweep import deadlines_sweep
from notifications.tasks import supervisor_digest_task
from tests.notifications.factories import YOUTH_FIRST, YOUTH_LAST
from tests.notifications.support import T0, H, all_email_text, build_world, open_rule

pytestmark = pytest.mark.django_db
#: 7:00 in Los Angeles on the day after T0 (PDT: UTC−7).
SEVEN_AM = dt.datetime(2026, 4, 7, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    return build_world(cast)


def test_the_digest_is_a_beat_task():
    entry = settings.CELERY_BEAT_SCHEDULE["deadlines-daily-digest"]
    assert entry["task"] == supervisor_digest_task.name


def test_each_supervisor_gets_one_digest_a_day_of_what_they_may_see(
    world, cast, clock, eager_celery, django_capture_on_commit_callbacks
):
    # given outstanding deadlines of DCFS (missing episode clocks) and of the Sheriff (written report)
    open_rule(world, "missing_ncmec_24h")
    open_rule(world, "written_report_36h")

    # before 7:00 Pacific nothing is sent
    clock.move_to(SEVEN_AM - H / 60)
    assert digests_send() == 0

    # at 7:00 each supervisor gets their agency's digest, by email, once
    clock.move_to(SEVEN_AM)
    with django_capture_on_commit_callbacks(execute=True):
        supervisor_digest_task()
        supervisor_digest_task()  # a second run the same day makes nothing
    digests = {d.recipient.username: d for d in DailyDigest.objects.select_related("recipient")}
    assert [line["reference"] for line in digests["dcfs_supervisor"].lines] == [f"Case {world.case.number}"]
    assert [line["rule_name"] for line in digests["sheriff_supervisor"].lines] == ["Written report due"]
    # a supervisor with nothing outstanding gets no email (the day is still recorded once)
    assert digests["probation_supervisor"].notification is None
    emailed = sorted(m.to[0] for m in mail.outbox)
    assert emailed == sorted(u.email for u in (cast.dcfs_supervisor, cast.dcfs_supervisor2, cast.sheriff_supervisor))
    assert Notification.objects.filter(rule="daily_digest", reason="digest").count() == 3

    # and no identifying detail, only numbers and rule names
    text = all_email_text()
    assert f"Case {world.case.number}" in text and "Daily digest" in text
    assert YOUTH_FIRST not in text and YOUTH_LAST not in text

    # the next day, again once
    clock.move_to(SEVEN_AM + 24 * H)
    assert digests_send() == 3


def test_the_digest_cannot_be_turned_off(world, cast, clock):
    from core.errors import ApplicationError
    from notifications.services.inbox import notification_preferences_update

    # it is not a kind a person may choose email for
    with pytest.raises(ApplicationError):
        notification_preferences_update(
            user=cast.dcfs_supervisor, changes={"daily_digest": False}, actor=cast.dcfs_supervisor
        )
    open_rule(world, "missing_ncmec_24h")
    clock.move_to(SEVEN_AM)
    digests_send()
    assert DailyDigest.objects.get(recipient=cast.dcfs_supervisor).notification.delivery_status == "pending"


@pytest.fixture
def failed_escalation(world, cast, clock, settings):  # type: ignore[no-untyped-def]
    """The NCMEC clock overdue; the email to dcfs_supervisor2 failed after every attempt."""
    settings.HARBOR_NOTIFICATION_MAX_ATTEMPTS = 1
    settings.EMAIL_BACKEND = "tests.notifications.test_digest_and_failures.FailingBackend"
    deadline = open_rule(world, "missing_ncmec_24h")
    clock.move_to(T0 + 25 * H)
    deadlines_sweep(redeliver=False)
    escalation = Notification.objects.get(deadline=deadline, recipient=cast.dcfs_supervisor2, stage="overdue")
    assert notification_send(notification_id=escalation.pk).outcome == "failed"
    return escalation


class FailingBackend:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        pass

    def open(self):  # type: ignore[no-untyped-def]
        return True

    def close(self):  # type: ignore[no-untyped-def]
        pass

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("mail server at 10.0.0.1 refused")


def test_a_failed_escalation_is_shown_to_the_agencys_other_supervisors(failed_escalation, cast, make_client):
    rows = make_client(cast.dcfs_supervisor).get("/api/v1/notification-failures/").json()["results"]
    assert [(r["id"], r["recipient"], r["stage"], r["reason"]) for r in rows] == [
        (failed_escalation.pk, cast.dcfs_supervisor2.pk, "overdue", "escalation")
    ]
    assert rows[0]["reference"] == failed_escalation.reference and rows[0]["deadline"] is not None
    assert rows[0]["error_class"] == "ConnectionRefusedError"
    assert "10.0.0.1" not in str(rows)
    # not their own (it is in their inbox), nor another agency's supervisors'
    assert make_client(cast.dcfs_supervisor2).get("/api/v1/notification-failures/").json()["results"] == []
    assert make_client(cast.sheriff_supervisor).get("/api/v1/notification-failures/").json()["results"] == []


def test_system_admins_see_every_failure_without_its_content(failed_escalation, cast, make_client):
    rows = make_client(cast.system_admin).get("/api/v1/notification-failures/").json()["results"]
    assert [r["id"] for r in rows] == [failed_escalation.pk]
    assert {rows[0][k] for k in ("deadline", "reference", "due_at", "link")} == {None}
    assert rows[0]["rule"] == "missing_ncmec_24h"


@pytest.mark.parametrize("who", ["dcfs_worker", "auditor", "agency_admin", "mdt_member"])
def test_no_one_else_sees_failures(failed_escalation, cast, make_client, who):
    assert make_client(getattr(cast, who)).get("/api/v1/notification-failures/").status_code == 403
