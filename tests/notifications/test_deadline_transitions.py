"""The deadline's status machine (SPEC §3), on django-fsm-2: an outstanding deadline (open or
missed) is met, waived, cancelled or settled by the facts; only an open one is missed; every
other status is final. The machine refuses any other move — on the model, through the services
and over HTTP (409 `conflict`) — and the set-based bulk paths move rows only as it allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from audit.models import AuditEvent
from core.errors import ApplicationError
from notifications.models import Deadline
from notifications.services.deadlines import deadline_cancel, deadline_meet, deadline_waive
from tests.notifications.support import T0, H, build_world, open_rule
from tests.security.test_status_single_writer import BULK_WRITERS

S = Deadline.Status
OUTSTANDING = (S.OPEN, S.MISSED)
#: SPEC §3 written again: the moves a deadline's status makes.
SPEC_MOVES = {
    *((source, target) for source in OUTSTANDING for target in (S.MET, S.WAIVED, S.CANCELLED)),
    *((source, target) for source in OUTSTANDING for target in (S.NOT_APPLICABLE, S.SUPERSEDED)),
    (S.OPEN, S.MISSED),
}


def machine_moves() -> set[tuple[str, str]]:
    """(source, target) of every transition of the model's machine."""
    field = Deadline._meta.get_field("status")
    transitions = list(field.get_all_transitions(Deadline))  # type: ignore[attr-defined]
    assert all(t.source not in ("*", "+") for t in transitions), "a wildcard source allows more than SPEC says"
    return {(t.source, t.target) for t in transitions}


def transition_names() -> list[str]:
    field = Deadline._meta.get_field("status")
    return sorted({t.name for t in field.get_all_transitions(Deadline)})  # type: ignore[attr-defined]


def target_of(name: str) -> str:
    field = Deadline._meta.get_field("status")
    return {t.target for t in field.get_all_transitions(Deadline) if t.name == name}.pop()  # type: ignore[attr-defined]


def test_the_machine_is_the_spec_s():  # type: ignore[no-untyped-def]
    assert machine_moves() == SPEC_MOVES


@pytest.mark.parametrize("name", transition_names())
@pytest.mark.parametrize("status", S.values)
def test_the_model_allows_exactly_the_spec_s_moves(status, name):  # type: ignore[no-untyped-def]
    # given a deadline in `status` (an unsaved row: the machine needs no database)
    deadline = Deadline(status=status)
    allowed = (status, target_of(name)) in SPEC_MOVES
    # then the machine says so, and a refused move raises and leaves the status as it was
    assert can_proceed(getattr(deadline, name)) is allowed
    if allowed:
        getattr(deadline, name)()
        assert deadline.status == target_of(name)
    else:
        with pytest.raises(TransitionNotAllowed):
            getattr(deadline, name)()
        assert deadline.status == status


def test_a_met_deadline_is_not_met_again():  # type: ignore[no-untyped-def]
    deadline = Deadline(status=S.MET)
    with pytest.raises(TransitionNotAllowed):
        deadline.meet()


# --- through the services and the API -------------------------------------------------------------


@pytest.fixture
def world(cast):  # type: ignore[no-untyped-def]
    return build_world(cast)


def _transition_events(deadline: Deadline) -> int:
    return AuditEvent.objects.filter(
        object_type="deadline", object_id=str(deadline.pk), action=AuditEvent.Action.TRANSITION
    ).count()


def test_meeting_a_met_deadline_again_changes_nothing(world, cast):  # type: ignore[no-untyped-def]
    # given a met deadline
    deadline = open_rule(world, "first_response_90m")
    assert deadline_meet(rule_code="first_response_90m", target=world.referral, met_at=T0 + H) == 1
    deadline.refresh_from_db()
    before = (deadline.status, deadline.met_at, deadline.recorded_at, _transition_events(deadline))
    # when the fact is recorded again: nothing outstanding is met, the first meeting stands
    assert deadline_meet(rule_code="first_response_90m", target=world.referral, met_at=T0 + 2 * H) == 0
    deadline.refresh_from_db()
    assert (deadline.status, deadline.met_at, deadline.recorded_at, _transition_events(deadline)) == before


@pytest.mark.parametrize("settled", ["met", "cancelled", "waived"])
def test_waiving_a_settled_deadline_answers_409_and_changes_nothing(world, cast, make_client, settled):  # type: ignore[no-untyped-def]
    # given a deadline of DCFS's that is no longer outstanding
    deadline = open_rule(world, "missing_attorney_24h")
    supervisor = make_client(cast.dcfs_supervisor)
    if settled == "met":
        deadline_meet(rule_code="missing_attorney_24h", target=world.episode, met_at=T0 + H)
    elif settled == "waived":
        deadline_waive(deadline=deadline, reason="Attorney relieved by the court", actor=cast.dcfs_supervisor)
    else:
        deadline_cancel(rule_code="missing_attorney_24h", target=world.episode, reason="synthetic")
    deadline.refresh_from_db()
    before = (deadline.status, deadline.waived_by_id, deadline.waive_reason, _transition_events(deadline))
    # when its supervisor waives it
    response = supervisor.post(f"/api/v1/deadlines/{deadline.pk}/waive/", {"reason": "Synthetic"})
    # then 409 in the one error shape, and nothing changed
    assert response.status_code == 409, response.content
    assert response.json() == {"code": "conflict", "detail": f"A {settled} deadline cannot be waived."}
    deadline.refresh_from_db()
    assert (deadline.status, deadline.waived_by_id, deadline.waive_reason, _transition_events(deadline)) == before
    # the service says the same
    with pytest.raises(ApplicationError) as refused:
        deadline_waive(deadline=deadline, reason="Synthetic", actor=cast.dcfs_supervisor)
    assert refused.value.code == "conflict"


@pytest.mark.usefixtures("fast_paths")
def test_a_missed_deadline_is_still_waived(world, cast, make_client, sweep, clock):  # type: ignore[no-untyped-def]
    # given a deadline the sweep marked missed
    deadline = open_rule(world, "missing_attorney_24h")
    clock.move_to(T0 + 25 * H)
    sweep()
    deadline.refresh_from_db()
    assert deadline.status == S.MISSED
    # when its supervisor waives it: missed -> waived is one of the machine's moves
    response = make_client(cast.dcfs_supervisor).post(f"/api/v1/deadlines/{deadline.pk}/waive/", {"reason": "Late"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "waived"


# --- the bulk paths ---------------------------------------------------------------------------------

#: One deadline per status, by rule: what the sweep finds when every reminder has come. Two open
#: ones: a rule that lapses as missed and one that lapses as met (a sharing grant left to expire).
STATUS_BY_RULE = {
    "written_report_36h": S.OPEN,
    "sharing_renewal_30d": S.OPEN,
    "first_response_90m": S.MISSED,
    "frp_services_72h": S.MET,
    "law_enforcement_report_24h": S.WAIVED,
    "missing_law_enforcement_24h": S.CANCELLED,
    "missing_ncmec_24h": S.NOT_APPLICABLE,
    "missing_attorney_24h": S.SUPERSEDED,
}


@pytest.mark.usefixtures("fast_paths")
def test_the_sweep_moves_rows_only_as_the_machine_allows(world, sweep, clock):  # type: ignore[no-untyped-def]
    """The sweep's set-based write-back (UPDATE … FROM unnest, and its ORM twin) from every
    status: each row stays as it was or makes one of the machine's moves."""
    # given a deadline in every status with its reminders due. The status is set straight in
    # the table: a settled deadline with a reminder pending is a state the services never leave
    # behind, and the point is what the bulk path would do to one.
    deadlines = {code: open_rule(world, code) for code in STATUS_BY_RULE}
    for code, status in STATUS_BY_RULE.items():
        Deadline.objects.filter(pk=deadlines[code].pk).update(status=status)
    assert (
        Deadline.objects.filter(pk__in=[d.pk for d in deadlines.values()], next_reminder_at__isnull=False).count() == 8
    )
    # when the sweep runs once every due time (and every overdue time) has passed
    clock.move_to(T0 + 31 * 24 * H)
    assert sweep().deadlines == 8
    # then every move it made is one of the machine's
    after = dict(Deadline.objects.filter(pk__in=[d.pk for d in deadlines.values()]).values_list("pk", "status"))
    moves = {(STATUS_BY_RULE[code], after[d.pk]) for code, d in deadlines.items()}
    allowed = machine_moves()
    assert {(a, b) for a, b in moves if a != b} <= allowed, sorted((str(a), str(b)) for a, b in moves)
    # and it made the moves it is there for (so this test exercises them): missed, and met on lapse
    assert {(S.OPEN, S.MISSED), (S.OPEN, S.MET)} <= moves
    # a status with no move out stays as it was
    finals = {s for s in S.values if not any(a == s for a, _ in allowed)}
    assert {(a, b) for a, b in moves if a in finals} == {(s, s) for s in finals}


#: Each registered bulk path (tests/security/test_status_single_writer.py BULK_WRITERS) and the
#: test here that checks its moves against the machine.
CHECKED_HERE = {Path("notifications/services/sweep.py"): test_the_sweep_moves_rows_only_as_the_machine_allows}


def test_every_registered_bulk_path_is_checked_against_the_machine():  # type: ignore[no-untyped-def]
    assert set(BULK_WRITERS) == set(CHECKED_HERE), "a bulk status path needs a test of its moves here"
