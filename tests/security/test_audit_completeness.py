"""Audit completeness (SPEC §5): drive every operation of the authorization matrix — for each,
one row of every status it answers (the successes, the refusals, the 401s, the 400s and 409s) —
one after the other on one world, with nothing rolled back in between. Each request must leave
the events SPEC §5 requires: reads included (view, list, export with the youth concerned),
writes, authentication and access-management events, and a `permission_denied` event for every
refusal of a signed-in caller; a list page leaves exactly one `list` event. Then the chain is
sealed and `audit_verify` (MACs, chain, a checkpoint) must pass over all of it, the world's own
events included."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from audit.models import AuditEvent
from audit.services.checkpoints import audit_checkpoint
from audit.services.verify import audit_verify

from .drive import (
    call,
    check_audit,
    check_denied_body,
    check_listed,
    client_for,
    last_event_id,
    names_for,
    prepare,
)
from .matrix import OPERATIONS, ROLES_BY_KEY, ROWS, Row


def representative_rows() -> list[Row]:
    """Per operation, the first row of each status it answers: refusals first (they must see
    the state the success will change), the success last. Operations that change who sees what
    for everybody after them (`late`) run at the end, in table order."""
    chosen: list[Row] = []
    for late in (False, True):
        for index, op in enumerate(OPERATIONS):
            if op.late != late:
                continue
            first: dict[int, Row] = {}
            for row in ROWS:
                if row.op_index == index:
                    first.setdefault(row.status, row)
            chosen.extend(sorted(first.values(), key=lambda r: (r.status < 300, r.status)))
    return chosen


REPRESENTATIVE = representative_rows()


@pytest.mark.django_db
def test_every_operation_leaves_the_audit_events_spec_requires_and_the_chain_verifies(world, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.HARBOR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    driven: set[tuple[str, str]] = set()
    for row in REPRESENTATIVE:
        # given
        op = OPERATIONS[row.op_index]
        role = ROLES_BY_KEY[row.role]
        names = names_for(world, role, row.scope)
        prepare(world, op, role, row.scope, names)
        # a token of its own per request: logging out or deactivating must not end the next row's
        token = None if role.anonymous else AuthToken.objects.create(user=world.user(role.username))[1]
        after = last_event_id()
        # when
        response = call(client_for(token), op, names)
        # then
        assert response.status_code == row.status, (row.id, response.status_code, response.content[:300])
        check_denied_body(row, response)
        check_listed(row, names, response)
        check_audit(row, names, after, world)
        if row.status == 200 and op.audit == {"list"} and not role.anonymous:
            # SPEC §5: a list page writes ONE `list` event, whatever the number of rows shown
            lists = AuditEvent.objects.filter(id__gt=after, action=AuditEvent.Action.LIST)
            assert lists.filter(actor_id=world.user(role.username).pk).count() == 1, (row.id, list(lists.values()))
        driven.add(op.key)
    assert driven == {op.key for op in OPERATIONS}
    # and the whole log — the world's events and every event above — seals and verifies
    audit_checkpoint()
    result = audit_verify()
    assert result.ok, result
    assert result.unsealed == 0
    assert result.checked == AuditEvent.objects.count()
    print(
        f"audit completeness: {len(REPRESENTATIVE)} requests over {len(driven)} operations, "
        f"{result.checked} events sealed and verified"
    )


@pytest.mark.django_db
def test_a_refusal_naming_an_id_no_column_can_hold_is_still_recorded(make_client):  # type: ignore[no-untyped-def]
    """A path may carry any number of digits: the refusal is recorded (without that id) and the
    answer stays a 404, never a database error."""
    from tests.factories import AgencyFactory, UserFactory

    # given
    worker = UserFactory(username="digits_worker", agency=AgencyFactory(code="DCFS"), role="case_worker")
    huge = "9" * 80
    # when
    response = make_client(worker).get(f"/api/v1/cases/{huge}/notes/12/")
    # then
    assert response.status_code == 404
    event = AuditEvent.objects.get(actor_id=worker.pk, action=AuditEvent.Action.PERMISSION_DENIED)
    assert (event.object_type, event.object_id, event.outcome) == ("note", "", AuditEvent.Outcome.DENIED)
    assert event.detail == {"method": "GET", "status": 404, "note_id": 12}
