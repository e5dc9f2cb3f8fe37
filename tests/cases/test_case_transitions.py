"""The case's status machine (SPEC §2 "Closing and reopening"), on django-fsm-2 as the referral's:
open -> closed -> open and nothing else. Closing a closed case or reopening an open one is
refused by the machine — on the model, through the service and over HTTP (409 `conflict`, and
nothing changes)."""

from __future__ import annotations

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from audit.models import AuditEvent
from cases.models import Case
from cases.services import cases as case_services
from core.errors import ApplicationError

from .factories import open_case

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

#: SPEC §2 written again: the moves a case's status makes, and by which action.
SPEC_MOVES = {("open", "closed"): "close", ("closed", "open"): "reopen"}


def test_the_machine_is_the_spec_s():  # type: ignore[no-untyped-def]
    field = Case._meta.get_field("status")
    moves = {(t.source, t.target): t.name for t in field.get_all_transitions(Case)}  # type: ignore[attr-defined]
    assert moves == SPEC_MOVES


@pytest.mark.parametrize(
    ("status", "refused"),
    [(Case.Status.OPEN, "reopen"), (Case.Status.CLOSED, "close")],
)
def test_the_model_refuses_a_move_its_status_does_not_allow(status, refused):  # type: ignore[no-untyped-def]
    # given a case in `status` (an unsaved row: the machine needs no database)
    case = Case(status=status)
    # then the other move is allowed and this one is refused, leaving the status as it was
    assert not can_proceed(getattr(case, refused))
    with pytest.raises(TransitionNotAllowed):
        getattr(case, refused)()
    assert case.status == status


def test_the_model_moves_open_closed_open():  # type: ignore[no-untyped-def]
    case = Case()
    case.close()
    assert case.status == Case.Status.CLOSED
    case.reopen()
    assert case.status == Case.Status.OPEN


def _transition_events(case: Case) -> int:
    return AuditEvent.objects.filter(object_type="case", object_id=case.pk, action=AuditEvent.Action.TRANSITION).count()


def test_the_service_refuses_to_reopen_an_open_case(people):  # type: ignore[no-untyped-def]
    # given an open case
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    # when its lead supervisor reopens it
    with pytest.raises(ApplicationError) as refused:
        case_services.case_reopen(case=case, actor=people.dcfs_supervisor, reason="Synthetic")
    # then 409, saying why
    assert (refused.value.code, refused.value.message) == ("conflict", "The case is open.")


def test_reopening_an_open_case_answers_409_and_changes_nothing(people, as_user):  # type: ignore[no-untyped-def]
    # given an open case
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    before = _transition_events(case)
    # when its lead supervisor reopens it
    response = as_user(people.dcfs_supervisor).post(f"/api/v1/cases/{case.pk}/reopen/", {"reason": "Synthetic"})
    # then 409 in the one error shape, and the case is as it was, no transition recorded
    assert response.status_code == 409, response.content
    assert response.json() == {"code": "conflict", "detail": "The case is open."}
    case.refresh_from_db()
    assert (case.status, case.reopened_at, case.reopen_reason) == (Case.Status.OPEN, None, "")
    assert _transition_events(case) == before


def test_closing_a_closed_case_answers_409_and_changes_nothing(people, as_user):  # type: ignore[no-untyped-def]
    # given a closed case
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    sup = as_user(people.dcfs_supervisor)
    assert sup.post(f"/api/v1/cases/{case.pk}/close/", {"reason": "Services completed."}).status_code == 200
    case.refresh_from_db()
    closed_at, before = case.closed_at, _transition_events(case)
    # when it is closed again
    response = sup.post(f"/api/v1/cases/{case.pk}/close/", {"reason": "Again"})
    # then 409, and the first closing stands
    assert response.status_code == 409, response.content
    assert response.json() == {"code": "conflict", "detail": "The case is already closed."}
    case.refresh_from_db()
    assert (case.status, case.close_reason, case.closed_at) == (Case.Status.CLOSED, "Services completed.", closed_at)
    assert _transition_events(case) == before
