"""Unknown /api/ paths and unsupported formats answer JSON in the one error shape (SPEC §6)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(role="case_worker", agency=AgencyFactory(code="DCFS")))
    return client


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/cases/1/no-such-part/", "/api/nothing", "/api/"])
def test_an_unknown_api_path_answers_json_not_html(worker_client: APIClient, path: str) -> None:
    # when
    response = worker_client.get(path)

    # then
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("fmt", ["xml", "api", "csv", "yaml"])
def test_an_unsupported_format_is_400_naming_the_formats_that_work(worker_client: APIClient, fmt: str) -> None:
    # when
    response = worker_client.get(f"/api/v1/cases/?format={fmt}")

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "json" in body["detail"] and "?format=" in body["detail"]
    assert body["errors"] == {"format": ["One of: json."]}


def test_a_supported_format_still_answers(worker_client: APIClient) -> None:
    # when
    response = worker_client.get("/api/v1/cases/?format=json")

    # then
    assert response.status_code == 200
