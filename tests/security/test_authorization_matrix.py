"""The project-wide authorization matrix (SPEC §8): every operation of the OpenAPI schema × every
role × every scope it matters for, run against one seeded world (tests/security/world.py). The
expected outcomes are a reviewed data file, tests/security/authorization_matrix.csv (its header
says how to review it); tests/security/matrix.py only says how to drive each row. The other
tests here keep the file exact: one sorted row per key, a row for every operation of the schema,
no row for an operation, role or scope that no longer exists.

Each row also checks that a refusal carries no field of the object, that a list shows the scope's
object exactly when the file says so, and that the request left the audit events SPEC §5
requires (the success's action, with the youth it concerns; a `permission_denied` event for a
refusal of a signed-in caller)."""

from __future__ import annotations

from collections import Counter

import pytest

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
from .matrix import (
    DRIVEN_OPERATIONS,
    MATRIX_OPERATIONS,
    OPERATIONS,
    RECORDS,
    ROLES,
    ROLES_BY_KEY,
    ROW_PROBLEMS,
    ROWS,
    load_rows,
    matrix_size,
    schema_operations,
)


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_authorization_matrix(row, world):  # type: ignore[no-untyped-def]
    # given
    op = OPERATIONS[row.op_index]
    role = ROLES_BY_KEY[row.role]
    names = names_for(world, role, row.scope)
    prepare(world, op, role, row.scope, names)
    client = client_for(None if role.anonymous else world.tokens[role.username])
    after = last_event_id()
    # when
    response = call(client, op, names)
    # then
    assert response.status_code == row.status, (row.id, response.status_code, response.content[:300])
    check_denied_body(row, response)
    check_listed(row, names, response)
    check_audit(row, names, after, world)


def test_every_operation_of_the_schema_has_rows():  # type: ignore[no-untyped-def]
    # given
    in_schema = schema_operations()
    # when
    missing = in_schema - MATRIX_OPERATIONS
    # then
    print(matrix_size())
    assert not missing, "operations of the OpenAPI schema without authorization rows:\n" + "\n".join(
        f"  {method} {path}" for method, path in sorted(missing)
    )


def test_no_row_names_an_operation_the_schema_no_longer_has():  # type: ignore[no-untyped-def]
    # given
    in_schema = schema_operations()
    # when
    stale_rows = MATRIX_OPERATIONS - in_schema
    stale_drivers = DRIVEN_OPERATIONS - in_schema
    # then
    assert not stale_rows, f"rows for operations the schema does not have: {sorted(stale_rows)}"
    assert not stale_drivers, f"operations driven that the schema does not have: {sorted(stale_drivers)}"


def test_every_row_is_one_the_matrix_can_drive():  # type: ignore[no-untyped-def]
    """A row whose operation, role or scope matrix.py does not know, or whose status or `listed`
    is not a valid one, would otherwise be dropped without a word."""
    assert not ROW_PROBLEMS, "\n".join(ROW_PROBLEMS)
    assert len(ROWS) == len(RECORDS)
    assert DRIVEN_OPERATIONS == MATRIX_OPERATIONS, "operations driven without rows (or rows without a driver)"


def test_a_row_for_an_operation_that_no_longer_exists_is_reported():  # type: ignore[no-untyped-def]
    # given a record for an operation nobody drives any more
    gone = {"path": "/api/v1/cases/{id}/retired/", "method": "POST", "role": "anonymous", "scope": "own"}
    # when
    rows, problems = load_rows([*RECORDS[:1], {**gone, "status": "401", "listed": ""}])
    # then
    assert len(rows) == 1
    assert problems == ["record 2 (POST /api/v1/cases/{id}/retired/ anonymous own): no such operation in OPERATIONS"]


def test_rows_are_sorted_with_one_row_per_operation_role_and_scope():  # type: ignore[no-untyped-def]
    """Sorted by (path, method, role, scope), so a diff of the file shows only what changed."""
    keys = [(rec["path"], rec["method"], rec["role"], rec["scope"]) for rec in RECORDS]
    duplicates = sorted(key for key, n in Counter(keys).items() if n > 1)
    assert not duplicates, duplicates
    out_of_order = [(a, b) for a, b in zip(keys, keys[1:], strict=False) if a > b]
    assert not out_of_order, f"rows out of order (first: {out_of_order[:1]})"


def test_every_role_appears_on_every_operation():  # type: ignore[no-untyped-def]
    """No operation is covered for a few roles only."""
    roles = {r.key for r in ROLES}
    for index, op in enumerate(OPERATIONS):
        seen = {row.role for row in ROWS if row.op_index == index}
        assert seen == roles, (op.key, roles - seen)
