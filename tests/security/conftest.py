"""Fixtures of the authorization matrix: the seeded world, built once per module inside a
transaction that is rolled back when the module ends (each test then runs in its own savepoint,
so a row's writes never reach the next row)."""

from __future__ import annotations

import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from .world import build_world

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """Say how big the matrix is whenever the run included it."""
    reports = [r for outcome in terminalreporter.stats.values() for r in outcome if hasattr(r, "nodeid")]
    if any("test_authorization_matrix.py" in r.nodeid for r in reports):
        from .matrix import matrix_size

        terminalreporter.write_line(matrix_size())
