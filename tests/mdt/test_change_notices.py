"""Batched "agenda changed" notices (SPEC §4): after publishing, at most one notice per member
per 15 minutes, saying what kind of change; the first change after a quiet spell at once, the
next ones folded into one notice at the end of the window; never to the person who made it."""

from __future__ import annotations

import datetime as dt

import pytest

from mdt import tasks
from mdt.services.change_notices import NOTICE_WINDOW, agenda_change_notices_send
from notifications.models import Notification
from tests.mdt.factories import CaseFactory
from tests.mdt.support import published_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled_runs(monkeypatch):  # type: ignore[no-untyped-def]
    """The task runs enqueued (with their ETA), in place of the broker."""
    runs: list[tuple[list, dt.datetime]] = []
    monkeypatch.setattr(
        tasks.agenda_change_notices_task, "apply_async", lambda args, eta, **kw: runs.append((args, eta))
    )
    return runs


def _changed(user):  # type: ignore[no-untyped-def]
    return list(
        Notification.objects.filter(recipient=user, rule="mdt_agenda", subject__contains="Agenda changed").order_by(
            "id"
        )
    )


def test_adding_seven_items_sends_each_member_one_notice_now_and_one_at_the_end_of_the_window(
    people, star, make_client, frozen, scheduled_runs, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    # given a published STAR agenda
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    client = make_client(people.star_coordinator)
    members = [people.da_member, people.dmh_clinician]

    # when the coordinator adds seven items, a minute apart
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(7):
            case = CaseFactory(court="STAR")
            response = client.post(
                f"/api/v1/mdt/meetings/{meeting.pk}/items/", {"case": case.pk, "reason": "court_date"}, format="json"
            )
            assert response.status_code == 201
            frozen.shift(dt.timedelta(minutes=1))

    # then each member got one notice at once, saying the items changed, and the coordinator none
    first_at = meeting.published_at
    for member in members:
        (notice,) = _changed(member)
        assert notice.subject == f"[Safe Harbor] Agenda changed: items — STAR meeting M-{meeting.pk}"
    assert _changed(people.star_coordinator) == []
    # and one run of the task is due at the end of the window (once, not once per change)
    assert [args for args, _ in scheduled_runs] == [[meeting.pk]]
    ((_, eta),) = scheduled_runs
    assert eta == first_at + NOTICE_WINDOW

    # when the task runs early, it sends nothing yet
    assert tasks.agenda_change_notices_task.run(meeting.pk) == 0
    # when it runs at the end of the window
    frozen.move_to(eta)
    assert tasks.agenda_change_notices_task.run(meeting.pk) == 2
    # then each member has exactly one more notice, folding the six later additions
    for member in members:
        assert len(_changed(member)) == 2
    assert _changed(people.star_coordinator) == []
    # and running it again (a redelivered task) sends nothing
    assert agenda_change_notices_send(meeting_id=meeting.pk) == 0


def test_a_change_after_a_quiet_spell_is_announced_at_once(people, star, make_client, frozen, scheduled_runs):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.star_coordinator)
    client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "Dept. 3"}, format="json")
    frozen.shift(NOTICE_WINDOW + dt.timedelta(minutes=1))
    client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "Video link"}, format="json")
    subjects = [n.subject for n in _changed(people.da_member)]
    assert subjects == [f"[Safe Harbor] Agenda changed: place — STAR meeting M-{meeting.pk}"] * 2


def test_a_time_change_says_the_old_and_the_new_time_in_pacific(people, star, make_client, frozen, scheduled_runs):  # type: ignore[no-untyped-def]
    # given the published meeting of Wednesday 11 March, 9:00 PDT
    meeting = published_meeting(star, people.star_coordinator, [])
    # when it moves a day later, to 10:00
    response = make_client(people.star_coordinator).patch(
        f"/api/v1/mdt/meetings/{meeting.pk}/",
        {"starts_at": "2026-03-12T10:00:00-07:00", "ends_at": "2026-03-12T12:00:00-07:00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    # then the members read both times, in Pacific time
    (notice,) = _changed(people.da_member)
    assert "time from Wed Mar 11, 2026 9:00 AM PDT to Thu Mar 12, 2026 10:00 AM PDT" in notice.subject
    assert _changed(people.star_coordinator) == []


def test_the_folded_notice_names_every_kind_of_change_in_the_window(people, star, make_client, frozen, scheduled_runs):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.star_coordinator)
    client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "Dept. 3"}, format="json")
    frozen.shift(dt.timedelta(minutes=2))
    client.post(
        f"/api/v1/mdt/meetings/{meeting.pk}/items/",
        {"case": CaseFactory(court="STAR").pk, "reason": "court_date"},
        format="json",
    )
    client.patch(
        f"/api/v1/mdt/meetings/{meeting.pk}/",
        {"starts_at": "2026-03-11T10:00:00-07:00", "ends_at": "2026-03-11T12:00:00-07:00"},
        format="json",
    )
    frozen.shift(NOTICE_WINDOW)
    agenda_change_notices_send(meeting_id=meeting.pk)
    first, folded = _changed(people.da_member)
    assert "place" in first.subject and "items" not in first.subject
    assert "time from Wed Mar 11, 2026 9:00 AM PDT to Wed Mar 11, 2026 10:00 AM PDT; items" in folded.subject
    assert "place" not in folded.subject  # already told


def test_changes_before_publishing_notify_nobody(people, star, make_client, frozen, scheduled_runs):  # type: ignore[no-untyped-def]
    from tests.mdt.support import schedule

    meeting = schedule(star, people.star_coordinator)
    make_client(people.star_coordinator).patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "X"}, format="json")
    assert not Notification.objects.filter(rule="mdt_agenda").exists()


def test_a_cancellation_is_told_at_once_but_not_to_the_coordinator_who_did_it(
    people, star, make_client, frozen, scheduled_runs
):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    make_client(people.star_coordinator).patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "X"}, format="json")
    make_client(people.star_coordinator).post(f"/api/v1/mdt/meetings/{meeting.pk}/cancel/", {}, format="json")
    # the coordinator has only their copy of the published agenda
    (own,) = Notification.objects.filter(recipient=people.star_coordinator, rule="mdt_agenda")
    assert own.subject.startswith("[Safe Harbor] Agenda published")
    subjects = sorted(n.subject for n in Notification.objects.filter(recipient=people.da_member))
    assert subjects == [
        f"[Safe Harbor] Agenda changed: place — STAR meeting M-{meeting.pk}",
        f"[Safe Harbor] Agenda published — STAR meeting M-{meeting.pk}",
        f"[Safe Harbor] Meeting cancelled — STAR meeting M-{meeting.pk}",
    ]


def test_the_worker_knows_the_task():  # type: ignore[no-untyped-def]
    from config.celery import app

    app.loader.import_default_modules()
    assert "mdt.tasks.agenda_change_notices_task" in app.tasks
