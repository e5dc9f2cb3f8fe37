"""The project-wide authorization matrix (SPEC §8): every operation of the OpenAPI schema × every
role × every scope it matters for, as data (tests/security/matrix.py), run against one seeded
world (tests/security/world.py). A second test fails when the schema has an operation the table
does not cover.

Each row also checks that a refusal carries no field of the object, and that the request left
the audit events SPEC §5 requires (the success's action, with the youth it concerns; a
`permission_denied` event for a refusal of a signed-in caller)."""

from __future__ import annotations

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
from .matrix import MATRIX_OPERATIONS, OPERATIONS, ROLES, ROLES_BY_KEY, ROWS, matrix_size, schema_operations


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
    stale = MATRIX_OPERATIONS - in_schema
    # then
    print(matrix_size())
    assert not missing, "operations of the OpenAPI schema without authorization rows:\n" + "\n".join(
        f"  {method} {path}" for method, path in sorted(missing)
    )
    assert not stale, f"rows for operations the schema does not have: {sorted(stale)}"


def test_every_role_appears_on_every_operation():  # type: ignore[no-untyped-def]
    """No operation is covered for a few roles only."""
    roles = {r.key for r in ROLES}
    for index, op in enumerate(OPERATIONS):
        seen = {row.role for row in ROWS if row.op_index == index}
        assert seen == roles, (op.key, roles - seen)
