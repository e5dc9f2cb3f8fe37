"""Opening, meeting, cancelling and waiving deadlines; the clocks of every rule of SPEC §3."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from core.errors import ApplicationError
from notifications import bootstrap
from notifications.messages import pacific
from notifications.models import Deadline, DeadlineRule
from notifications.rules import DEFAULT_RULES
from notifications.selectors import open_deadlines_for_cases
from notifications.services.deadlines import deadline_cancel, deadline_meet, deadline_open, deadline_waive
from tests.notifications import factories as f
from tests.notifications.support import RULE_CASES, RULE_CASES_BY_CODE, T0, H, build_world, open_rule, target_for

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    return build_world(cast)


# --- rules as data -------------------------------------------------------------------------------


def test_bootstrap_creates_every_rule_of_the_table_once(db):
    # when
    first = bootstrap.run()
    second = bootstrap.run()

    # then
    assert set(DeadlineRule.objects.values_list("code", flat=True)) == {r["code"] for r in DEFAULT_RULES}
    assert len(DEFAULT_RULES) == 11
    assert "11 created" in first and "0 created" in second
    rule = DeadlineRule.objects.get(code="written_report_36h")
    assert rule.offset == 36 * H and "11166(a)" in rule.legal_source


def test_bootstrap_keeps_an_admin_edit(rules):
    # given a system admin shortened the clock
    DeadlineRule.objects.filter(code="written_report_36h").update(offset=30 * H)

    # when
    bootstrap.run()

    # then
    assert DeadlineRule.objects.get(code="written_report_36h").offset == 30 * H


def test_a_rule_edit_affects_only_deadlines_opened_afterwards(world, cast):
    # given a deadline opened under the default rule
    before = deadline_open(rule_code="written_report_36h", target=world.referral, starts_at=T0)
    # when the admin changes the offset and the upcoming point
    DeadlineRule.objects.filter(code="written_report_36h").update(offset=30 * H, upcoming_fraction=0.5)
    other = f.ReferralFactory(created_by=cast.dcfs_worker)
    after = deadline_open(rule_code="written_report_36h", target=other, starts_at=T0)

    # then history is not rewritten
    before.refresh_from_db()
    assert (before.due_at, before.upcoming_at) == (T0 + 36 * H, T0 + 24 * H)
    assert (after.due_at, after.upcoming_at) == (T0 + 30 * H, T0 + 15 * H)


def test_a_switched_off_rule_opens_nothing(world):
    DeadlineRule.objects.filter(code="written_report_36h").update(is_active=False)
    assert deadline_open(rule_code="written_report_36h", target=world.referral, starts_at=T0) is None
    assert not Deadline.objects.exists()


def test_a_missing_rule_is_created_from_the_table_on_first_use(db, cast):
    # given a database where bootstrap never ran
    DeadlineRule.objects.all().delete()
    referral = f.ReferralFactory(created_by=cast.dcfs_worker)

    # when
    deadline = deadline_open(rule_code="written_report_36h", target=referral, starts_at=T0)

    # then
    assert deadline.due_at == T0 + 36 * H


# --- opening: every rule -------------------------------------------------------------------------


@pytest.mark.parametrize("rc", RULE_CASES, ids=lambda rc: rc.code)
def test_opening_computes_the_clock_of_every_rule(world, cast, rc):
    # when
    deadline = open_rule(world, rc.code, actor=cast.dcfs_worker)

    # then
    assert deadline.status == Deadline.Status.OPEN
    assert deadline.due_at == T0 + rc.due
    assert deadline.upcoming_at == (T0 + rc.upcoming if rc.upcoming else None)
    assert deadline.overdue_at == (T0 + rc.overdue if rc.overdue else None)
    assert (deadline.next_stage, deadline.next_reminder_at) == ("upcoming", T0 + rc.upcoming)
    assert deadline.target == target_for(world, rc.code)
    assert AuditEvent.objects.filter(object_type="deadline", object_id=str(deadline.pk), action="create").exists()


def test_the_denormalised_columns_serve_lists_without_generic_joins(world, cast):
    referral_deadline = open_rule(world, "written_report_36h")
    item_deadline = open_rule(world, "action_item_due")
    meeting_deadline = open_rule(world, "agenda_publish_48h")

    assert (referral_deadline.referral_id, referral_deadline.case_id, referral_deadline.agency_id) == (
        world.referral.pk,
        world.case.pk,
        cast.agencies["SHERIFF"].pk,
    )
    assert referral_deadline.reference == f"Referral R-{world.referral.pk}"
    assert referral_deadline.youth_id == world.case.youth_id
    assert (item_deadline.case_id, item_deadline.assignee_id, item_deadline.agency_id) == (
        world.case.pk,
        cast.probation_worker.pk,
        cast.agencies["PROBATION"].pk,
    )
    assert item_deadline.reference == f"Case {world.case.number}"
    assert (meeting_deadline.team_id, meeting_deadline.agency_id) == (world.team.pk, None)
    assert meeting_deadline.reference == f"STAR meeting M-{world.meeting.pk}"


def test_agenda_due_defaults_to_48_hours_before_the_meeting(world):
    # when the mdt service does not pass the due time, the rule's anchor gives it
    deadline = deadline_open(rule_code="agenda_publish_48h", target=world.meeting, starts_at=T0)

    assert deadline.due_at == world.meeting.starts_at - 48 * H


def test_a_clock_opened_late_is_already_due(world):
    # a meeting scheduled one day ahead: the agenda was due a day ago
    meeting = f.meeting(world.team, starts_at=T0 + 24 * H, creator=world.meeting.created_by)
    deadline = deadline_open(
        rule_code="agenda_publish_48h", target=meeting, starts_at=T0, due_at=meeting.starts_at - 48 * H
    )

    assert deadline.upcoming_at is None
    assert (deadline.next_stage, deadline.next_reminder_at) == ("due", T0 - 24 * H)


def test_opening_is_idempotent(world):
    first = open_rule(world, "written_report_36h")
    again = open_rule(world, "written_report_36h")

    assert first.pk == again.pk
    assert Deadline.objects.count() == 1


def test_the_same_facts_do_not_reopen_a_met_deadline_but_a_new_clock_does(world):
    first = open_rule(world, "written_report_36h")
    deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0 + 3 * H)

    again = open_rule(world, "written_report_36h")
    corrected = deadline_open(rule_code="written_report_36h", target=world.referral, starts_at=T0 + H)

    assert again.pk == first.pk and again.status == "met"
    assert corrected.pk != first.pk and corrected.status == "open"


def test_naive_times_are_refused(world):
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline_open(rule_code="written_report_36h", target=world.referral, starts_at=dt.datetime(2026, 4, 6, 10, 0))


def test_a_rule_refuses_the_wrong_kind_of_target(world):
    with pytest.raises(ValueError, match="applies to a referral"):
        deadline_open(rule_code="written_report_36h", target=world.episode, starts_at=T0)


# --- daylight saving ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported_local", "due_utc", "due_shown"),
    [
        # 8 March 2026: clocks spring forward at 2:00 PST. 20:00 PST + 36 real hours = 09:00 PDT.
        (
            dt.datetime(2026, 3, 7, 20, 0, tzinfo=LA),
            dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC),
            "Mon Mar 9, 2026 9:00 AM PDT",
        ),
        # 1 November 2026: clocks fall back at 2:00 PDT. 20:00 PDT + 36 real hours = 07:00 PST.
        (
            dt.datetime(2026, 10, 31, 20, 0, tzinfo=LA),
            dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC),
            "Mon Nov 2, 2026 7:00 AM PST",
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_36_hour_clock_is_36_real_hours_across_a_daylight_saving_change(cast, reported_local, due_utc, due_shown):
    # given a telephone report timed in Pacific wall-clock time
    referral = f.ReferralFactory(created_by=cast.dcfs_worker, hotline_reported_at=reported_local)

    # when
    deadline = deadline_open(rule_code="written_report_36h", target=referral, starts_at=reported_local)

    # then
    assert deadline.due_at == due_utc
    assert (deadline.due_at - reported_local).total_seconds() == 36 * 3600
    assert (deadline.upcoming_at - reported_local).total_seconds() == 24 * 3600
    assert pacific(deadline.due_at) == due_shown


# --- meeting, cancelling ---------------------------------------------------------------------------


@pytest.mark.parametrize("rc", RULE_CASES, ids=lambda rc: rc.code)
def test_meeting_every_rule_closes_it_and_stops_reminders(world, rc):
    deadline = open_rule(world, rc.code)

    # when
    count = deadline_meet(rule_code=rc.code, target=target_for(world, rc.code), met_at=T0 + H)

    # then
    deadline.refresh_from_db()
    assert count == 1
    assert (deadline.status, deadline.met_at, deadline.next_reminder_at) == ("met", T0 + H, None)


def test_meeting_without_an_open_deadline_counts_zero(world):
    assert deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0) == 0


def test_a_missed_deadline_can_still_be_met_late(world, sweep, clock):
    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 36 * H)
    sweep()
    deadline.refresh_from_db()
    assert deadline.status == "missed"

    # when the written report is finally recorded
    deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0 + 40 * H)

    # then
    deadline.refresh_from_db()
    assert (deadline.status, deadline.met_at, deadline.missed_at) == ("met", T0 + 40 * H, T0 + 36 * H)
    assert deadline.next_reminder_at is None


def test_cancelling_closes_without_reminders_and_allows_a_new_clock(world):
    deadline = open_rule(world, "agenda_publish_48h")

    assert deadline_cancel(rule_code="agenda_publish_48h", target=world.meeting, reason="rescheduled") == 1
    deadline.refresh_from_db()
    assert (deadline.status, deadline.cancel_reason, deadline.next_reminder_at) == ("cancelled", "rescheduled", None)
    assert open_rule(world, "agenda_publish_48h").pk != deadline.pk


# --- waiving ---------------------------------------------------------------------------------------


def test_a_supervisor_of_the_responsible_agency_waives_with_a_reason(world, cast):
    deadline = open_rule(world, "first_response_90m")  # responsible: DCFS (receiving)

    waived = deadline_waive(deadline=deadline, reason="Youth recovered by another county", actor=cast.dcfs_supervisor)

    assert (waived.status, waived.waived_by, waived.next_reminder_at) == ("waived", cast.dcfs_supervisor, None)
    assert AuditEvent.objects.filter(object_type="deadline", object_id=str(deadline.pk), action="transition").exists()


@pytest.mark.parametrize("who", ["dcfs_worker", "sheriff_supervisor", "mdt_coordinator"])
def test_no_one_else_may_waive(world, cast, who):
    deadline = open_rule(world, "first_response_90m")

    with pytest.raises(ApplicationError) as raised:
        deadline_waive(deadline=deadline, reason="no", actor=getattr(cast, who))

    assert raised.value.code == "forbidden"
    deadline.refresh_from_db()
    assert deadline.status == "open"


def test_waiving_needs_a_reason_and_an_unmet_deadline(world, cast):
    deadline = open_rule(world, "first_response_90m")
    with pytest.raises(ApplicationError) as blank:
        deadline_waive(deadline=deadline, reason="  ", actor=cast.dcfs_supervisor)
    deadline_meet(rule_code="first_response_90m", target=world.referral, met_at=T0)
    with pytest.raises(ApplicationError) as closed:
        deadline_waive(deadline=deadline, reason="late", actor=cast.dcfs_supervisor)

    assert (blank.value.code, closed.value.code) == ("invalid", "conflict")


# --- the agenda view's hook ------------------------------------------------------------------------


def test_open_deadlines_for_cases_lists_only_unmet_ones_in_two_queries(world, django_assert_num_queries):
    open_rule(world, "written_report_36h")  # a referral deadline: counts for the referral's case
    open_rule(world, "action_item_due")
    open_rule(world, "missing_ncmec_24h")
    deadline_meet(rule_code="missing_ncmec_24h", target=world.episode, met_at=T0)
    open_rule(world, "agenda_publish_48h")  # a meeting's: belongs to no case

    with django_assert_num_queries(2):  # the cases' referrals, then their deadlines by index
        found = open_deadlines_for_cases(case_ids=[world.case.pk, 999_999])

    assert [d["rule"] for d in found[world.case.pk]] == ["written_report_36h", "action_item_due"]
    assert found[999_999] == []
    assert set(found[world.case.pk][0]) == {"rule", "label", "due_at", "status"}


def test_every_rule_case_is_covered():
    assert {rc.code for rc in RULE_CASES} == {r["code"] for r in DEFAULT_RULES} == set(RULE_CASES_BY_CODE)
