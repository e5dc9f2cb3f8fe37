"""Met, recorded late (SPEC §2 "Fact times", §3): a deadline keeps when its fact happened
(`met_at`) and when the fact was recorded (`recorded_at`); reminders already sent stand."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from notifications.models import Deadline, Notification
from notifications.services.deadlines import deadline_meet
from tests.notifications.support import T0, H, build_world, open_rule


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    return build_world(cast)


def _missed_and_escalated(world, sweep, clock) -> Deadline:  # type: ignore[no-untyped-def]
    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 36 * H)
    sweep()
    clock.move_to(T0 + 37 * H)
    sweep()
    deadline.refresh_from_db()
    assert deadline.status == "missed"
    assert Notification.objects.filter(deadline=deadline, stage="overdue").exists()
    return deadline


def test_a_fact_in_time_recorded_after_the_due_time_is_met_recorded_late(world, sweep, clock):
    deadline = _missed_and_escalated(world, sweep, clock)
    sent = set(Notification.objects.filter(deadline=deadline).values_list("id", "stage", "delivery_status"))
    clock.move_to(T0 + 40 * H)

    # when the report, submitted at T0 + 30 h, is recorded at T0 + 40 h
    deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0 + 30 * H)

    # then
    deadline.refresh_from_db()
    assert (deadline.status, deadline.met_at, deadline.recorded_at) == ("met", T0 + 30 * H, T0 + 40 * H)
    assert deadline.recorded_late and not deadline.met_late
    assert deadline.missed_at == T0 + 36 * H  # the lapse stays on the record
    assert set(Notification.objects.filter(deadline=deadline).values_list("id", "stage", "delivery_status")) == sent
    event = AuditEvent.objects.filter(object_type="deadline", object_id=str(deadline.pk)).order_by("-id").first()
    # the status is named, never its value (SPEC §5: no status values in audit events)
    assert event.detail["recorded_late"] is True and event.detail["late"] is False
    assert "status" in event.detail["fields"] and "status" not in event.detail


def test_a_fact_after_the_due_time_is_met_late_not_recorded_late(world, sweep, clock):
    deadline = _missed_and_escalated(world, sweep, clock)
    clock.move_to(T0 + 40 * H)

    deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0 + 39 * H)

    deadline.refresh_from_db()
    assert deadline.status == "met" and deadline.met_at > deadline.due_at
    assert deadline.met_late and not deadline.recorded_late


def test_a_fact_recorded_in_time_is_neither(world, clock):
    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 20 * H)

    deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0 + 19 * H)

    deadline.refresh_from_db()
    assert (deadline.met_at, deadline.recorded_at) == (T0 + 19 * H, T0 + 20 * H)
    assert not deadline.met_late and not deadline.recorded_late
