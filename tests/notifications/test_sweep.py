"""The sweep: every stage of every rule, missing, escalation, substitutes, preferences, and
the promise that a reminder is created once and only once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection

from accounts.services import user_deactivate
from notifications.models import Deadline, Notification, NotificationPreference
from notifications.services.deadlines import deadline_meet
from notifications.services.inbox import notification_preferences_update
from notifications.services.sweep import deadlines_sweep
from tests.notifications import factories as f
from tests.notifications.factories import YOUTH_FIRST, YOUTH_LAST
from tests.notifications.support import (
    RULE_CASES,
    T0,
    H,
    all_email_text,
    build_world,
    open_rule,
    stage_notifications,
    usernames,
)

# Every sweep test runs with the PostgreSQL fast paths on and off (their ORM twins).
pytestmark = pytest.mark.usefixtures("fast_paths")


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    return build_world(cast)


@pytest.mark.parametrize("rc", RULE_CASES, ids=lambda rc: rc.code)
def test_every_stage_of_every_rule(world, cast, sweep, clock, rc):
    # given the deadline opened at T0
    deadline = open_rule(world, rc.code)

    # when nothing has come yet
    clock.move_to(T0 + rc.upcoming - H / 60)
    assert sweep().notifications == 0

    # upcoming: the responsible people, in the inbox and by email
    clock.move_to(T0 + rc.upcoming)
    sweep()
    upcoming = stage_notifications(deadline, "upcoming")
    assert usernames(upcoming) == sorted(rc.responsible)
    assert {n.delivery_status for n in upcoming} == {"sent"}
    assert {n.reason for n in upcoming} == {"responsible"}

    # due: the same people; the due time has passed unmet, so the deadline is missed
    # (a sharing grant left to expire is a lawful outcome: met)
    clock.move_to(T0 + rc.due)
    sweep()
    deadline.refresh_from_db()
    assert usernames(stage_notifications(deadline, "due")) == sorted(rc.responsible)
    assert deadline.status == rc.lapse_status

    # overdue: the responsible people and, as escalation, the responsible agency's supervisors
    if rc.overdue is not None:
        clock.move_to(T0 + rc.overdue)
        sweep()
        overdue = stage_notifications(deadline, "overdue")
        assert usernames(overdue) == sorted(rc.responsible + rc.supervisors)
        assert {n.recipient.username for n in overdue if n.reason == "escalation"} == set(rc.supervisors)

    # and nothing more, however often the sweep runs
    deadline.refresh_from_db()
    assert deadline.next_reminder_at is None
    emails = len(mail.outbox)
    clock.move_to(T0 + 90 * 24 * H)
    assert sweep().notifications == 0
    assert len(mail.outbox) == emails == Notification.objects.count()
    assert YOUTH_FIRST not in all_email_text() and YOUTH_LAST not in all_email_text()


def test_a_late_first_sweep_sends_only_the_latest_stage_and_records_the_others(world, sweep, clock):
    deadline = open_rule(world, "written_report_36h")

    clock.move_to(T0 + 37 * H)
    sweep()

    assert set(Notification.objects.filter(deadline=deadline).values_list("stage", flat=True)) == {"overdue"}
    deadline.refresh_from_db()
    assert (deadline.status, deadline.missed_at) == ("missed", T0 + 36 * H)
    # nothing skipped silently: the stages passed over are on the deadline, with their times
    assert deadline.superseded_stages == [
        {"stage": "upcoming", "at": (T0 + 24 * H).isoformat(), "recorded_at": (T0 + 37 * H).isoformat()},
        {"stage": "due", "at": (T0 + 36 * H).isoformat(), "recorded_at": (T0 + 37 * H).isoformat()},
    ]


def test_a_sweep_in_time_supersedes_nothing(world, sweep, clock):
    deadline = open_rule(world, "written_report_36h")
    for at in (24, 36, 37):
        clock.move_to(T0 + at * H)
        sweep()
    deadline.refresh_from_db()
    assert deadline.superseded_stages == []
    assert Notification.objects.filter(deadline=deadline).values("stage").distinct().count() == 3


def test_meeting_the_deadline_stops_further_reminders(world, sweep, clock):
    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 25 * H)
    sweep()
    assert Notification.objects.filter(deadline=deadline, stage="upcoming").count() == 1

    # when the written report is recorded
    deadline_meet(rule_code="written_report_36h", target=world.referral, met_at=T0 + 26 * H)
    clock.move_to(T0 + 40 * H)
    result = sweep()

    # then
    assert result.deadlines == 0 and result.notifications == 0
    assert Notification.objects.filter(deadline=deadline).count() == 1


def test_a_deactivated_creator_is_skipped_for_the_next_responsible_person(world, cast, sweep, clock):
    # given the referral's creator left, and no one of the Sheriff's Department is on the case
    deadline = open_rule(world, "written_report_36h")
    user_deactivate(actor=cast.system_admin, user=cast.sheriff_worker)

    clock.move_to(T0 + 24 * H)
    sweep()

    # then the supervisors of the responsible agency stand in
    upcoming = stage_notifications(deadline, "upcoming")
    assert usernames(upcoming) == ["sheriff_supervisor"]
    assert upcoming[0].reason == "substitute"


def test_a_deactivated_team_member_is_skipped_while_others_remain(world, cast, sweep, clock):
    deadline = open_rule(world, "first_response_90m")  # responsible: the creator + DCFS team members
    user_deactivate(actor=cast.system_admin, user=cast.dcfs_worker)

    clock.move_to(T0 + 60 * H / 60)
    sweep()

    assert usernames(stage_notifications(deadline, "upcoming")) == ["sheriff_worker"]


def test_a_deactivated_assignee_hands_over_to_the_agency_supervisors(world, cast, sweep, clock):
    # given Probation takes part in the case, so its supervisors may open the item
    f.participation(world.case, cast.agencies["PROBATION"], granted_at=T0, by=cast.dcfs_supervisor)
    deadline = open_rule(world, "action_item_due")
    user_deactivate(actor=cast.system_admin, user=cast.probation_worker)

    clock.move_to(T0 + 4 * 24 * H)
    sweep()

    assert usernames(stage_notifications(deadline, "upcoming")) == ["probation_supervisor"]


def test_the_overdue_action_item_escalates_only_to_supervisors_who_may_open_it(world, cast, sweep, clock):
    """The reported bug: the escalation went to every supervisor of the item's agency, who
    usually cannot open it. Probation takes no part in this DCFS-led case."""
    deadline = open_rule(world, "action_item_due")

    # when it is overdue
    clock.move_to(T0 + 7 * 24 * H)
    sweep()

    # then only the assignee hears of it: Probation's supervisor cannot see the case
    assert usernames(stage_notifications(deadline, "overdue")) == ["probation_worker"]

    # and once Probation takes part in the case, the next escalation reaches its supervisor
    f.participation(world.case, cast.agencies["PROBATION"], granted_at=T0 + 7 * 24 * H, by=cast.dcfs_supervisor)
    other = f.action_item(
        world.case, world.team, assignee=cast.probation_worker, due_at=T0 + 8 * 24 * H, creator=cast.mdt_coordinator
    )
    from notifications.services.deadlines import deadline_open

    later = deadline_open(rule_code="action_item_due", target=other, starts_at=T0 + 7 * 24 * H, due_at=other.due_at)
    clock.move_to(T0 + 9 * 24 * H)
    sweep()
    overdue = stage_notifications(later, "overdue")
    assert usernames(overdue) == ["probation_supervisor", "probation_worker"]
    assert {n.reason for n in overdue if n.recipient == cast.probation_supervisor} == {"escalation"}


def test_a_supervisor_who_may_not_see_the_referral_is_not_a_substitute(world, cast, sweep, clock):
    # given a Sheriff referral received by DCFS, its creator gone, and no case yet
    referral = f.ReferralFactory(
        created_by=cast.sheriff_worker, receiving_agency=cast.agencies["DCFS"], hotline_reported_at=T0
    )
    from notifications.services.deadlines import deadline_open

    deadline = deadline_open(rule_code="first_response_90m", target=referral, starts_at=T0)
    user_deactivate(actor=cast.system_admin, user=cast.sheriff_worker)

    clock.move_to(T0 + 60 * H / 60)
    sweep()

    # then DCFS's supervisors (the receiving agency sees the referral) stand in, nobody else
    assert usernames(stage_notifications(deadline, "upcoming")) == ["dcfs_supervisor", "dcfs_supervisor2"]


def test_without_any_active_coordinator_the_meeting_creator_is_reminded(world, cast, sweep, clock):
    other = f.meeting(world.team, starts_at=T0 + 7 * 24 * H, creator=cast.dcfs_supervisor)
    from notifications.services.deadlines import deadline_open

    deadline = deadline_open(rule_code="agenda_publish_48h", target=other, starts_at=T0)
    user_deactivate(actor=cast.system_admin, user=cast.mdt_coordinator)

    clock.move_to(T0 + 80 * H)
    sweep()

    # then the meeting's creator, who is not on the team and so may not see the meeting, is not
    # told (SPEC §3: never a person who may not see the object); a coordinator of the team is
    assert stage_notifications(deadline, "upcoming") == []
    f.team_membership(world.team, cast.dcfs_supervisor, coordinator=True)
    Deadline.objects.filter(pk=deadline.pk).update(next_stage="upcoming", next_reminder_at=T0 + 80 * H)
    sweep()
    assert usernames(stage_notifications(deadline, "upcoming")) == ["dcfs_supervisor"]


def test_a_coordinator_moved_to_a_role_off_the_team_is_no_longer_reminded(world, cast, sweep, clock):
    from accounts.models import User
    from core.permissions import Role

    other = f.meeting(world.team, starts_at=T0 + 7 * 24 * H, creator=cast.dcfs_supervisor)
    from notifications.services.deadlines import deadline_open

    deadline = deadline_open(rule_code="agenda_publish_48h", target=other, starts_at=T0)
    # the coordinator's account holds an auditor role (still active, still listed on the team).
    # SPEC §1 now refuses that move through accounts.services.user_update (a role never crosses
    # from the case roles to the non-case roles on one account), so the state is written
    # directly, as data from before that rule would hold it.
    User.objects.filter(pk=cast.mdt_coordinator.pk).update(role=Role.AUDITOR)

    clock.move_to(T0 + 80 * H)
    sweep()

    # then they get no meeting reminder; nor does the next in line, the meeting's creator, who
    # is not on the team and may not see the meeting
    assert stage_notifications(deadline, "upcoming") == []


def test_a_person_who_leaves_after_the_reminder_is_created_gets_no_email(
    world, cast, django_capture_on_commit_callbacks, eager_celery, clock
):
    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)
    deadlines_sweep()  # created, but its send not run (the commit hooks are not executed here)
    user_deactivate(actor=cast.system_admin, user=cast.sheriff_worker)

    from notifications.services.delivery import notification_send

    notification = Notification.objects.get(deadline=deadline)
    assert notification_send(notification_id=notification.pk).outcome == "skipped"
    notification.refresh_from_db()
    assert notification.delivery_status == "inbox_only"
    assert mail.outbox == []


def test_email_preferences_are_honoured_but_the_escalation_cannot_be_turned_off(world, cast, sweep, clock):
    # given the creator turned email off for written-report reminders
    notification_preferences_update(
        user=cast.sheriff_worker, changes={"written_report_36h": False}, actor=cast.sheriff_worker
    )
    deadline = open_rule(world, "written_report_36h")

    clock.move_to(T0 + 24 * H)
    sweep()
    clock.move_to(T0 + 37 * H)
    sweep()

    # then the inbox has both, the email only the overdue one
    stages = dict(
        Notification.objects.filter(deadline=deadline, recipient=cast.sheriff_worker).values_list(
            "stage", "delivery_status"
        )
    )
    assert stages == {"upcoming": "inbox_only", "overdue": "sent"}
    assert [m.to for m in mail.outbox if "Overdue" in m.subject and m.to == [cast.sheriff_worker.email]]
    assert not [m for m in mail.outbox if m.to == [cast.sheriff_worker.email] and "Upcoming" in m.subject]
    assert NotificationPreference.objects.filter(user=cast.sheriff_worker, email=False).count() == 1


def test_a_person_without_an_email_address_still_gets_the_inbox_entry(world, cast, sweep, clock):
    type(cast.sheriff_worker).objects.filter(pk=cast.sheriff_worker.pk).update(email="")
    deadline = open_rule(world, "written_report_36h")

    clock.move_to(T0 + 24 * H)
    sweep()

    assert Notification.objects.get(deadline=deadline).delivery_status == "inbox_only"
    assert mail.outbox == []


def test_the_email_carries_no_identifying_detail(world, cast, sweep, clock):
    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)
    sweep()

    (message,) = mail.outbox
    assert message.subject == f"[Safe Harbor] Upcoming: written report due — Referral R-{world.referral.pk}"
    assert "Tue Apr 7, 2026 10:00 PM PDT" in message.body  # due T0 + 36 h, shown in Pacific time
    assert f"http://127.0.0.1:8000/app/referrals/{world.referral.pk}/" in message.body
    assert "11166(a)" in message.body
    html = message.alternatives[0][0]
    assert "Referral R-" in html and "Pacific time" in html
    assert message.extra_headers["X-Harbor-Notification"] == str(Notification.objects.get(deadline=deadline).pk)
    text = all_email_text()
    for secret in [YOUTH_FIRST, YOUTH_LAST, "2010", "bus station", cast.sheriff_worker.last_name]:
        assert secret not in text


def test_one_notification_per_deadline_stage_and_recipient(world, cast, clock):
    deadline = open_rule(world, "first_response_90m")
    clock.move_to(T0 + 60 * H / 60)
    deadlines_sweep()

    # when the same stage is swept again (as a second sweeper that raced past the claim would)
    Deadline.objects.filter(pk=deadline.pk).update(next_stage="upcoming", next_reminder_at=T0)
    deadlines_sweep()

    # then the unique constraint kept it at one per person
    assert Notification.objects.filter(deadline=deadline, stage="upcoming").count() == 2


def test_the_sweep_counts_what_it_did(world, clock):
    open_rule(world, "written_report_36h")
    open_rule(world, "missing_ncmec_24h")

    clock.move_to(T0 + 36 * H)
    result = deadlines_sweep(redeliver=False)

    # written report: due (its creator); NCMEC: overdue (the DCFS worker and two supervisors)
    assert (result.deadlines, result.missed) == (2, 2)
    assert result.notifications == Notification.objects.count() == 4


def test_the_sweep_works_in_batches(world, cast, clock):
    for _ in range(7):
        referral = f.ReferralFactory(created_by=cast.dcfs_worker)
        from notifications.services.deadlines import deadline_open

        deadline_open(rule_code="written_report_36h", target=referral, starts_at=T0)
    clock.move_to(T0 + 24 * H)

    result = deadlines_sweep(batch_size=3)

    assert (result.deadlines, result.notifications) == (7, 7)


def test_the_sweep_cost_grows_with_what_is_due_not_with_the_table(world, cast, clock):
    from notifications.services.deadlines import deadline_open

    def many(n: int) -> None:
        for _ in range(n):
            deadline_open(
                rule_code="written_report_36h",
                target=f.ReferralFactory(created_by=cast.dcfs_worker),
                starts_at=T0 + 30 * 24 * H,
            )

    open_rule(world, "written_report_36h")
    clock.move_to(T0 + 24 * H)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        deadlines_sweep(redeliver=False)
    # given many more deadlines that are not due
    many(40)
    Deadline.objects.filter(rule__code="written_report_36h", referral=world.referral).update(
        next_stage="upcoming", next_reminder_at=T0 + 24 * H
    )
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as large:
        deadlines_sweep(redeliver=False)

    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.postgres
def test_the_sweep_reads_through_the_partial_index(world, clock):
    open_rule(world, "written_report_36h")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = (
            Deadline.objects.filter(next_reminder_at__lte=T0)
            .order_by("next_reminder_at", "id")
            .values("id")
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "deadline_next_reminder_idx" in plan


@pytest.mark.postgres
def test_the_fast_paths_setting_chooses_the_statements(world, clock, fast_paths):
    from django.test.utils import CaptureQueriesContext

    open_rule(world, "written_report_36h")
    clock.move_to(T0 + 37 * H)  # a late sweep: the superseded stages travel in the write-back too
    with CaptureQueriesContext(connection) as queries:
        deadlines_sweep(redeliver=False)
    unnest = [q["sql"] for q in queries.captured_queries if "unnest(" in q["sql"]]
    assert len(unnest) == (2 if fast_paths else 0)
    deadline = Deadline.objects.get(rule__code="written_report_36h", referral=world.referral)
    assert [s["stage"] for s in deadline.superseded_stages] == ["upcoming", "due"]


def test_an_escalation_checks_an_agencys_supervisors_together_not_one_by_one(world, cast, clock):
    """Issue 19's sweep regression: each supervisor who might be escalated to was checked with a
    query of their own (80 at county scale). Supervisors of one agency who coordinate the same
    MDT teams see the same deadlines, and are checked with one."""
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory

    deadline = open_rule(world, "written_report_36h")
    clock.move_to(T0 + 37 * H)  # overdue: the Sheriff's supervisors are escalated to
    with CaptureQueriesContext(connection) as one:  # the sweep's own queries (sends are enqueued on commit)
        deadlines_sweep(redeliver=False)
    first = usernames(stage_notifications(deadline, "overdue"))
    # given six more Sheriff supervisors, and the sweep run again on a fresh deadline
    for n in range(6):
        UserFactory(username=f"sheriff_supervisor_{n}", agency=cast.agencies["SHERIFF"], role="supervisor")
    Notification.objects.all().delete()
    Deadline.objects.filter(pk=deadline.pk).update(next_stage="overdue", next_reminder_at=T0 + 37 * H)
    with CaptureQueriesContext(connection) as seven:
        deadlines_sweep(redeliver=False)
    # then all of them are told, with no more visibility queries than for one
    overdue = usernames(stage_notifications(deadline, "overdue"))
    assert first == ["sheriff_supervisor", "sheriff_worker"]
    assert overdue == sorted([*first, *(f"sheriff_supervisor_{n}" for n in range(6))])
    assert len(seven.captured_queries) == len(one.captured_queries)


def test_people_with_one_visibility_key_see_the_same_deadlines(world, cast):
    """What the sweep's grouping relies on (notifications.subjects.visibility_keys): whoever
    shares a key sees the same deadlines through the apps, whatever they are assigned."""
    from itertools import combinations

    from notifications import subjects
    from notifications.selectors import deadline_ids_visible_among
    from tests.notifications.support import RULE_CASES

    for rc in RULE_CASES:
        open_rule(world, rc.code)
    # a supervisor who also coordinates the MDT team has a key of their own
    f.team_membership(world.team, cast.dcfs_supervisor2, coordinator=True)
    people = [u for u in vars(cast).values() if hasattr(u, "agency_id")]
    ids = list(Deadline.objects.values_list("id", flat=True))
    keys = subjects.visibility_keys(users=people)
    assert keys[cast.dcfs_supervisor.pk] != keys[cast.dcfs_supervisor2.pk]
    assert keys[cast.dcfs_worker.pk] is None  # a case worker's is their own
    grouped = [(a, b) for a, b in combinations(people, 2) if keys[a.pk] is not None and keys[a.pk] == keys[b.pk]]
    assert grouped  # the check compares someone
    for a, b in grouped:
        seen_a = deadline_ids_visible_among(user=a, ids=ids, assigned=False)
        seen_b = deadline_ids_visible_among(user=b, ids=ids, assigned=False)
        assert seen_a == seen_b, (a.username, b.username)
