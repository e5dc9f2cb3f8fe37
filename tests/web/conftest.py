"""Fixtures of the web app's tests: the cases tests' people and reference data, and browsers
(Django test clients) signed in through a real session."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cases.conftest import as_user, indicator_codes, people  # noqa: F401  (fixtures)


@pytest.fixture
def web():  # type: ignore[no-untyped-def]
    """`web(user)` → a test client with a signed-in session of `user` (cached per user)."""
    clients: dict[int, Client] = {}

    def get(user):  # type: ignore[no-untyped-def]
        if user.pk not in clients:
            client = Client()
            client.force_login(user)
            clients[user.pk] = client
        return clients[user.pk]

    return get
