"""Every error has one shape, whatever produced it (SPEC §6):
`{"code": "<machine code>", "detail": "<a sentence for a person>", "errors": {"<field>": ["…"]}}`,
with `errors` present for validation, and messages that say what to send."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _assert_shape(response, status: int, code: str, *, errors: bool = False) -> dict:  # type: ignore[no-untyped-def]
    """Exactly `code` and `detail`, plus `errors` (field -> messages) when the error is a
    validation error: no other key, none missing."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ({"code", "detail", "errors"} if errors else {"code", "detail"}), body
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    if errors:
        assert isinstance(body["errors"], dict) and body["errors"], body
        for messages in body["errors"].values():
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(m, str) and m for m in messages), body
    return body


@pytest.fixture
def worker() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(role="case_worker", agency=AgencyFactory(code="DCFS")))
    return client


def test_a_serializer_error_names_each_field_and_what_to_send(worker: APIClient) -> None:
    # when: a referral with a nested youth that lacks its names, and no source
    response = worker.post("/api/v1/referrals/", {"youth": {"date_of_birth": "2010-01-01"}}, format="json")

    # then
    body = _assert_shape(response, 400, "invalid", errors=True)
    assert body["errors"]["youth.first_name"] == ["Send this field."]
    assert body["errors"]["source"] == ["Send this field."]
    assert "youth.first_name" in body["detail"] and "source" in body["detail"]


def test_a_service_error_has_the_same_shape(worker: APIClient) -> None:
    # when: an admin-only collection asked by a case worker
    response = worker.get("/api/v1/audit-events/")

    # then
    _assert_shape(response, 403, "permission_denied")


def test_not_authenticated_has_the_same_shape() -> None:
    _assert_shape(APIClient().get("/api/v1/cases/"), 401, "not_authenticated")


def test_an_object_one_may_not_see_has_the_same_shape(worker: APIClient) -> None:
    body = _assert_shape(worker.get("/api/v1/cases/999999/"), 404, "not_found")
    assert body == {"code": "not_found", "detail": "Not found."}


def test_an_unknown_path_has_the_same_shape(worker: APIClient) -> None:
    _assert_shape(worker.get("/api/v1/nothing-here/"), 404, "not_found")


def test_a_wrong_method_has_the_same_shape(worker: APIClient) -> None:
    _assert_shape(worker.delete("/api/v1/cases/"), 405, "method_not_allowed")


def test_a_body_that_is_not_json_has_the_same_shape(worker: APIClient) -> None:
    _assert_shape(
        worker.post("/api/v1/referrals/", "<x/>", content_type="application/xml"), 415, "unsupported_media_type"
    )
    _assert_shape(worker.post("/api/v1/referrals/", "{not json", content_type="application/json"), 400, "parse_error")


def test_a_throttled_request_has_the_same_shape(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # given a token endpoint allowing one attempt a minute
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "1/min"})
    client = APIClient()
    client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"}, format="json")

    # when
    response = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"}, format="json")

    # then
    body = _assert_shape(response, 429, "throttled")
    assert "seconds" in body["detail"]
