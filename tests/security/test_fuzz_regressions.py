"""What the schema fuzzer found, kept as plain regression tests (each answered 500 once)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def worker_client(agencies, make_client):  # type: ignore[no-untyped-def]
    return make_client(UserFactory(username="regress_worker", agency=agencies["DCFS"], role="case_worker"))


@pytest.mark.django_db
def test_an_impossible_time_in_a_filter_is_400(worker_client):  # type: ignore[no-untyped-def]
    # PostgreSQL refused the offset -16:42 with a DataError
    response = worker_client.get("/api/v1/deadlines/", {"due_before": "0530-01-12T10:06:48.740060-16:42"})
    assert response.status_code == 400
    response = worker_client.get("/api/v1/referrals/", {"received_after": "9999-01-01T00:00:00Z"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_far_offset_within_range_is_read_as_utc(worker_client):  # type: ignore[no-untyped-def]
    assert worker_client.get("/api/v1/deadlines/", {"due_before": "2026-01-12T10:06:48-15:30"}).status_code == 200


@pytest.mark.django_db
def test_nul_characters_are_refused_in_bodies_queries_and_paths(worker_client):  # type: ignore[no-untyped-def]
    # PostgreSQL text and JSON columns cannot hold NUL: the referral create answered 500
    body = {
        "youth": {"first_name": "Ana\u0000", "last_name": "Ruiz", "date_of_birth": "2010-01-01"},
        "received_at": "2026-03-01T10:00:00-08:00",
        "source": "school",
        "indicators": [],
        "narrative": "x\u0000y",
    }
    assert worker_client.post("/api/v1/referrals/", body, format="json").status_code == 400
    assert worker_client.get("/api/v1/referrals/?source=%00").status_code == 400
    assert worker_client.post("/api/v1/cases/1/agencies/A%00B/renew/", {}, format="json").status_code == 400


@pytest.mark.django_db
def test_an_agency_code_with_a_nul_is_400(agencies, system_admin, make_client):  # type: ignore[no-untyped-def]
    body = {"username": "x1", "email": "x1@example.invalid", "agency": "DC\u0000FS", "role": "case_worker"}
    assert make_client(system_admin).post("/api/v1/users/", body, format="json").status_code == 400


@pytest.mark.django_db
def test_options_is_405_not_a_crash(worker_client):  # type: ignore[no-untyped-def]
    # DRF's metadata crashed on views without a serializer class
    assert worker_client.options("/api/v1/cases/1/agencies/DMH/renew/").status_code == 405
    assert worker_client.options("/api/v1/youth/1/merge/").status_code == 405


@pytest.mark.django_db
def test_a_path_no_route_matches_is_a_json_404(worker_client):  # type: ignore[no-untyped-def]
    response = worker_client.get("/api/v1/cases/-1/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


# --- times and cursors (SPEC §6: offsets required, times between 1900 and 2100, one error shape) --


def _field_errors(response) -> dict:  # type: ignore[no-untyped-def]
    """The field messages of a 400, in the one error shape (`errors`) or DRF's plain one."""
    body = response.json()
    return body.get("errors", body)


def _referral_body(**times: str) -> dict:
    return {
        "youth": {"first_name": "Ana", "last_name": "Ruiz", "date_of_birth": "2010-01-01"},
        "received_at": "2026-03-01T10:00:00-08:00",
        "source": "hotline",
        "indicators": [],
        **times,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",  # converting it to UTC overflowed (500)
        "9999-12-31T23:59:59-12:00",  # the same at the other end
        "1899-12-31T23:59:59Z",
        "2100-01-01T00:00:01Z",
        "2100-01-01T10:00:00-12:00",  # 2100 on the wall, 2100-01-01T22:00Z: past the bound
    ],
)
def test_a_time_outside_1900_to_2100_in_a_filter_is_400(worker_client, value):  # type: ignore[no-untyped-def]
    for path, name in (("/api/v1/deadlines/", "due_before"), ("/api/v1/referrals/", "received_after")):
        response = worker_client.get(path, {name: value})
        assert response.status_code == 400, (path, response.content)
        assert name in _field_errors(response)


@pytest.mark.django_db
def test_the_bounds_themselves_are_accepted(worker_client):  # type: ignore[no-untyped-def]
    for value in ("1900-01-01T00:00:00Z", "2100-01-01T00:00:00Z", "1899-12-31T20:00:00-05:00"):
        assert worker_client.get("/api/v1/deadlines/", {"due_after": value}).status_code == 200, value


@pytest.mark.django_db
def test_a_clock_time_near_year_9999_is_400_not_an_overflow(worker_client, reference_data):  # type: ignore[no-untyped-def]
    # the 36-hour clock added to a hotline report at the end of year 9999 overflowed (500)
    for times in (
        {"hotline_reported_at": "9999-12-31T20:00:00Z"},
        {"recovered_at": "9999-12-31T23:00:00+00:00"},
        {"received_at": "9999-12-31T23:59:59-12:00"},
        {"hotline_reported_at": "0001-01-01T00:00:00+14:00"},
    ):
        response = worker_client.post("/api/v1/referrals/", _referral_body(**times), format="json")
        assert response.status_code == 400, (times, response.content)
        assert set(_field_errors(response)) == set(times)


@pytest.mark.django_db
def test_a_time_without_an_offset_is_400(worker_client, reference_data):  # type: ignore[no-untyped-def]
    # it was read as Pacific time: a guess, off by hours for a client elsewhere
    response = worker_client.post(
        "/api/v1/referrals/", _referral_body(received_at="2026-03-01T10:00:00"), format="json"
    )
    assert response.status_code == 400, response.content
    assert "offset" in _field_errors(response)["received_at"][0]
    response = worker_client.get("/api/v1/deadlines/", {"due_before": "2026-03-01T10:00:00"})
    assert response.status_code == 400
    assert "offset" in _field_errors(response)["due_before"][0]
    response = worker_client.get("/api/v1/mdt/meetings/", {"starts_after": "2026-03-01T10:00:00"})
    assert response.status_code == 400, response.content


@pytest.mark.django_db
def test_a_date_outside_1900_to_2100_is_400(worker_client, reference_data):  # type: ignore[no-untyped-def]
    response = worker_client.get("/api/v1/youth/", {"date_of_birth": "9999-12-31"})
    assert response.status_code == 400, response.content
    response = worker_client.get(
        "/api/v1/youth/matches/", {"first_name": "Ana", "last_name": "Ruiz", "date_of_birth": "0001-01-01"}
    )
    assert response.status_code == 400, response.content


def _cursor(raw: str) -> str:
    import base64

    return base64.b64encode(raw.encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        _cursor("o=-1"),
        _cursor("p=abc"),  # a position that is not an id: the query crashed (500)
        _cursor("p=0001-01-01 00:00:00+14:00"),
        _cursor("x=1"),
        _cursor("p=99999999999999999999999"),
        _cursor("p=1\x00"),
    ],
)
def test_a_garbled_cursor_is_400_in_the_error_shape(worker_client, agencies, make_client, cursor):  # type: ignore[no-untyped-def]
    auditor = make_client(UserFactory(username="regress_auditor", agency=agencies["DCFS"], role="auditor"))
    for client, path in (
        (worker_client, "/api/v1/deadlines/"),
        (worker_client, "/api/v1/notifications/"),
        (auditor, "/api/v1/audit-events/"),
    ):
        response = client.get(path, {"cursor": cursor})
        assert response.status_code == 400, (path, response.status_code, response.content)
        body = response.json()
        assert body["code"] == "invalid" and "cursor" in body["errors"], body


@pytest.mark.django_db
def test_a_cursor_time_with_a_far_offset_is_read_as_utc(worker_client):  # type: ignore[no-untyped-def]
    # PostgreSQL refused the offset -16:42 of a hand-made cursor position with a DataError (500)
    response = worker_client.get("/api/v1/deadlines/", {"cursor": _cursor("p=2026-01-12 10:06:48-16:42")})
    assert response.status_code == 200, response.content
