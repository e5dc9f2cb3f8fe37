"""Fixtures for the notifications tests: the rules, a small cast of people, a frozen clock and a
sweep that runs its on-commit sends in-process (Celery eager) into the locmem outbox."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import time_machine

from core.permissions import Role
from notifications import bootstrap
from notifications.services.sweep import SweepResult, deadlines_sweep
from tests.factories import AgencyFactory, UserFactory
from tests.notifications.support import T0


@pytest.fixture
def rules(db):  # type: ignore[no-untyped-def]
    bootstrap.run()


@pytest.fixture(params=[True, False], ids=["fast_paths", "orm_twins"])
def fast_paths(request, settings):  # type: ignore[no-untyped-def]
    """HARBOR_DB_FAST_PATHS on and off: the sweep's PostgreSQL-only statements (core/db.py) and
    their ORM twins run the same tests (on SQLite both ids run the twins)."""
    settings.HARBOR_DB_FAST_PATHS = request.param
    return request.param


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    """A frozen clock at T0; `clock.move_to(T0 + 25 * H)` travels."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sweep(django_capture_on_commit_callbacks, eager_celery):  # type: ignore[no-untyped-def]
    """`sweep()` → one sweep now, its sends executed (eagerly) when its batches commit."""

    def run(**kwargs) -> SweepResult:  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            return deadlines_sweep(**kwargs)

    return run


@pytest.fixture
def cast(agencies, rules):  # type: ignore[no-untyped-def]
    """A few people per agency. Names are plain test names (never a youth's)."""

    def user(name: str, code: str, role: str = Role.CASE_WORKER):  # type: ignore[no-untyped-def]
        return UserFactory(username=name, agency=agencies[code], role=role)

    return SimpleNamespace(
        agencies=agencies,
        dcfs_worker=user("dcfs_worker", "DCFS"),
        dcfs_worker2=user("dcfs_worker2", "DCFS"),
        dcfs_supervisor=user("dcfs_supervisor", "DCFS", Role.SUPERVISOR),
        dcfs_supervisor2=user("dcfs_supervisor2", "DCFS", Role.SUPERVISOR),
        sheriff_worker=user("sheriff_worker", "SHERIFF"),
        sheriff_supervisor=user("sheriff_supervisor", "SHERIFF", Role.SUPERVISOR),
        probation_worker=user("probation_worker", "PROBATION"),
        probation_supervisor=user("probation_supervisor", "PROBATION", Role.SUPERVISOR),
        dmh_worker=user("dmh_worker", "DMH"),
        mdt_coordinator=user("mdt_coordinator", "PROBATION", Role.MDT_MEMBER),
        mdt_member=user("mdt_member", "DMH", Role.MDT_MEMBER),
        agency_admin=user("dcfs_admin", "DCFS", Role.AGENCY_ADMIN),
        auditor=user("auditor", "DCFS", Role.AUDITOR),
        system_admin=UserFactory(username="root", agency=None, role=Role.SYSTEM_ADMIN, is_superuser=True),
        other_agency=AgencyFactory(code="DA", name="District Attorney"),
    )
