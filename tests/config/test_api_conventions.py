"""API conventions shared by every endpoint (SPEC §6): 401 without a token, 413 for big or deep
bodies, 400 (never 500, never a stack trace) for malformed JSON, security headers everywhere."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from core.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def _nested(depth: int) -> str:
    return '{"username": ' + "[" * depth + "]" * depth + ', "password": "x"}'


def _assert_plain_error(response) -> None:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    assert response["Content-Type"].startswith("application/json")
    assert "Traceback" not in text
    assert 'File "' not in text
    assert ".py" not in text


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/users/"),
        ("post", "/api/v1/users/"),
        ("get", "/api/v1/users/1/"),
        ("patch", "/api/v1/users/1/"),
        ("post", "/api/v1/users/1/deactivate/"),
        ("get", "/api/v1/agencies/"),
        ("get", "/api/v1/audit-events/"),
        ("post", "/api/v1/auth/logout/"),
        ("post", "/api/v1/me/mfa/totp/"),
    ],
)
def test_no_token_is_401(method, url):
    # when
    response = getattr(APIClient(), method)(url, {}, format="json")

    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    _assert_plain_error(response)


def test_a_body_over_the_limit_is_413_before_it_is_read(settings):
    # given
    settings.HARBOR_MAX_BODY_BYTES = 2048
    body = json.dumps({"username": "u", "password": "p" * 4096})

    # when
    response = APIClient().generic("POST", TOKEN_URL, body, content_type="application/json")

    # then
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large.", "code": "too_large"}


def test_the_default_limit_is_one_mebibyte(settings):
    # given
    body = json.dumps({"username": "u", "password": "p" * (settings.HARBOR_MAX_BODY_BYTES + 1)})

    # when
    response = APIClient().generic("POST", TOKEN_URL, body, content_type="application/json")

    # then
    assert settings.HARBOR_MAX_BODY_BYTES == 1024 * 1024
    assert response.status_code == 413


def test_a_body_just_under_the_limit_is_read(settings):
    # given
    settings.HARBOR_MAX_BODY_BYTES = 2048
    body = json.dumps({"username": "u", "password": "p" * 100})

    # when
    response = APIClient().generic("POST", TOKEN_URL, body, content_type="application/json")

    # then: an ordinary failed login, not a size refusal
    assert response.status_code == 400


def test_a_bad_content_length_is_400():
    # when
    response = APIClient().generic("POST", TOKEN_URL, "{}", content_type="application/json", CONTENT_LENGTH="lots")

    # then
    assert response.status_code == 400


@pytest.mark.parametrize("depth", [50, 100_000])
def test_deeply_nested_json_is_413(depth):
    # when
    response = APIClient().generic("POST", TOKEN_URL, _nested(depth), content_type="application/json")

    # then
    assert response.status_code == 413
    _assert_plain_error(response)


def test_nesting_within_the_limit_is_an_ordinary_validation_error():
    # when
    response = APIClient().generic("POST", TOKEN_URL, _nested(5), content_type="application/json")

    # then
    assert response.status_code == 400
    assert "username" in response.json()["errors"]


@pytest.mark.parametrize("body", ['{"username": "a", "password": ', "{'single': 'quotes'}", "\x00\xff", "[1,2", "NaN"])
def test_malformed_json_is_400_without_a_stack_trace(body):
    # when
    response = APIClient().generic("POST", TOKEN_URL, body, content_type="application/json")

    # then
    assert response.status_code == 400
    _assert_plain_error(response)


def test_a_json_body_that_is_not_an_object_is_400():
    # when
    response = APIClient().generic("POST", TOKEN_URL, "[1, 2, 3]", content_type="application/json")

    # then
    assert response.status_code == 400
    _assert_plain_error(response)


def test_a_non_json_body_is_refused_without_500():
    # when
    response = APIClient().generic(
        "POST", TOKEN_URL, "username=a&password=b", content_type="application/x-www-form-urlencoded"
    )

    # then
    assert response.status_code == 415


def test_validation_errors_on_an_authenticated_endpoint_carry_field_messages(make_client, agencies):
    # given
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)

    # when
    response = make_client(admin).post(
        "/api/v1/users/", {"username": "bad name!", "email": "not-an-email"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"username", "email", "role"}


def test_api_responses_are_not_cached(make_client, agencies):
    # given
    worker = UserFactory(username="w", agency=agencies["DCFS"], role=Role.CASE_WORKER)

    # when
    response = make_client(worker).get("/api/v1/me/")

    # then
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_every_response_carries_a_request_id():
    # when
    generated = APIClient().get("/api/v1/me/")
    echoed = APIClient().get("/api/v1/me/", HTTP_X_REQUEST_ID="abc-123")
    refused = APIClient().get("/api/v1/me/", HTTP_X_REQUEST_ID="<script>")

    # then
    assert len(generated["X-Request-ID"]) == 32
    assert echoed["X-Request-ID"] == "abc-123"
    assert refused["X-Request-ID"] != "<script>"


def test_an_unknown_api_path_is_404_without_detail(make_client, agencies):
    # given
    worker = UserFactory(username="w", agency=agencies["DCFS"], role=Role.CASE_WORKER)

    # when
    response = make_client(worker).get("/api/v1/no-such-thing/")

    # then
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()
    assert "urlpatterns" not in response.content.decode()


def test_only_a_unique_violation_becomes_a_conflict():
    from django.db import IntegrityError

    from core.errors import exception_handler

    context = {"view": None, "request": None}
    # a unique constraint lost to a concurrent write: 409, and the quoted value is not passed on
    unique = exception_handler(IntegrityError("UNIQUE constraint failed: accounts_user.username"), context)
    assert unique is not None and unique.status_code == 409
    assert "username" not in str(unique.data)
    # any other integrity error is a bug: left to the plain 500
    assert exception_handler(IntegrityError("NOT NULL constraint failed: cases_case.number"), context) is None
