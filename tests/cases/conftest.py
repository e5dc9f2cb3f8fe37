"""Fixtures of the cases tests: the indicator codes, one person per role per partner agency."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def indicator_codes(db):  # type: ignore[no-untyped-def]
    """The reference data the services rely on: indicator codes, and the deadline rules once
    the notifications app provides them."""
    from importlib import import_module

    from cases import bootstrap

    bootstrap.run()
    with contextlib.suppress(ModuleNotFoundError):
        import_module("notifications.bootstrap").run()


@pytest.fixture
def clock_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """Record the calls to the notifications interface: [(verb, rule_code, target, kwargs)]."""
    from notifications.services import deadlines

    calls = []

    def recorder(verb):  # type: ignore[no-untyped-def]
        def record(**kwargs):  # type: ignore[no-untyped-def]
            calls.append((verb, kwargs["rule_code"], kwargs["target"], kwargs))

        return record

    for verb in ("open", "meet", "cancel"):
        monkeypatch.setattr(deadlines, f"deadline_{verb}", recorder(verb))
    return calls


@pytest.fixture
def people(agencies):  # type: ignore[no-untyped-def]
    """`people.dcfs_supervisor`, `people.sheriff_case_worker`, … one per role per agency, plus
    `people.dcfs_worker2` (a second DCFS case worker) and `people.system_admin`."""
    found = {}
    for code, agency in agencies.items():
        for role in ["case_worker", "supervisor", "mdt_member", "agency_admin", "auditor"]:
            name = f"{code.lower()}_{role}"
            found[name] = UserFactory(username=name, agency=agency, role=role, first_name=code.title(), last_name=role)
    found["dcfs_worker2"] = UserFactory(username="dcfs_worker2", agency=agencies["DCFS"], role="case_worker")
    found["system_admin"] = UserFactory(username="root", agency=None, role="system_admin", is_superuser=True)
    return SimpleNamespace(**found)


@pytest.fixture
def as_user(make_client):  # type: ignore[no-untyped-def]
    """`as_user(user)` → an authenticated API client (cached per user)."""
    clients = {}

    def get(user):  # type: ignore[no-untyped-def]
        if user.pk not in clients:
            clients[user.pk] = make_client(user)
        return clients[user.pk]

    return get
