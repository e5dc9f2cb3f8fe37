"""Fixtures shared by the whole suite.

Tests that need PostgreSQL or Redis are marked `postgres` / `redis`. Outside CI they skip, with
the reason, when the service is not configured; under CI=true a missing service fails the run.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import AgencyFactory, UserFactory

#: Every log record of the whole run is checked for identifying values (tests/ops/log_scrub.py).
pytest_plugins = ["tests.ops.log_scrub"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _require(service: str, available: bool, why: str) -> None:
    if available:
        return
    if IN_CI or os.environ.get("HARBOR_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{service} is mandatory in CI but not available: {why}")
    pytest.skip(f"needs {service}: {why}")


def redis_available() -> bool:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return False
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        _require("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://… to run it")
    if request.node.get_closest_marker("redis"):
        _require("Redis", redis_available(), "set REDIS_URL=redis://… to run it")


@pytest.fixture
def agencies(db):  # type: ignore[no-untyped-def]
    """The four partner agencies, by code."""
    return {code: AgencyFactory(code=code, name=code.title()) for code in ["DMH", "PROBATION", "DCFS", "SHERIFF"]}


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    """An API client authenticated as `user` with a real token (through the login service)."""
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def make_client():  # type: ignore[no-untyped-def]
    return client_for


@pytest.fixture
def system_admin(db):  # type: ignore[no-untyped-def]
    return UserFactory(role="system_admin", agency=None, is_superuser=True, username="root")


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    """Throttle counters live in the (per-process) cache: without this, every login of the whole
    session counts against one address's rate, and frozen-time tests see "future" entries."""
    from django.core.cache import cache

    cache.clear()


def _flush_past_the_append_only_triggers() -> None:
    """A transactional test ends with Django's flush, one TRUNCATE of every table — which the
    audit tables refuse on PostgreSQL (SPEC §5). The test role is a superuser: its flush runs in
    replica mode, where no trigger fires (the same bypass a real superuser has, and that the
    MACs and the checkpoints outside the database are there to catch)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "_past_audit_triggers", False):
        return

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # type: ignore[no-untyped-def]
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements:
            return statements
        # flush runs its statements in one transaction: SET LOCAL ends with it.
        return ["SET LOCAL session_replication_role = replica", *statements]

    sql_flush._past_audit_triggers = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_flush_past_the_append_only_triggers()


@pytest.fixture
def eager_celery():  # type: ignore[no-untyped-def]
    """Tasks run in-process when enqueued (the on-commit send lands in mail.outbox). Celery's own
    configuration, not Django's setting: the app has read its settings by the time a test runs."""
    from config.celery import app as celery_app

    before = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False  # eager retries re-run in place only without propagation
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = before


@pytest.fixture
def reference_data(db):  # type: ignore[no-untyped-def]
    """The reference data `bootstrap` loads: indicator codes and deadline rules."""
    from cases import bootstrap as cases_bootstrap
    from notifications import bootstrap as notifications_bootstrap

    cases_bootstrap.run()
    notifications_bootstrap.run()
