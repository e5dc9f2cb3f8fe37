"""Fixtures for the access-management tests: one admin and one worker per agency that matters."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.permissions import Role
from tests.factories import TEST_PASSWORD, UserFactory


def api_login(username: str, password: str = TEST_PASSWORD, client: APIClient | None = None) -> APIClient:
    """Log in through POST /api/v1/auth/token/ and return a client carrying the token."""
    client = client or APIClient()
    response = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


@pytest.fixture
def dcfs_admin(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)


@pytest.fixture
def dcfs_worker(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)


@pytest.fixture
def probation_worker(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="probation_worker", agency=agencies["PROBATION"], role=Role.CASE_WORKER)
