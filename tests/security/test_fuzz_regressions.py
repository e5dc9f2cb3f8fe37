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
