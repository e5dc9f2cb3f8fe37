"""Bad input answers 400 (or 404 for an id in the path), never a 500 (SPEC §6)."""

from __future__ import annotations

import pytest

from tests.mdt.factories import CaseFactory
from tests.mdt.support import published_meeting

pytestmark = pytest.mark.django_db

HUGE = 10**20


def test_out_of_range_ids_and_times_are_400_or_404(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    client = make_client(people.star_coordinator)
    year_9999 = {"starts_at": "9999-12-30T09:00:00Z", "ends_at": "9999-12-30T10:00:00Z"}
    action = {"case": case.pk, "meeting": meeting.pk, "description": "x", "agency": "DA"}
    calls = [
        (400, "post", f"/api/v1/mdt/meetings/{meeting.pk}/items/", {"case": HUGE, "reason": "other"}),
        (400, "post", f"/api/v1/mdt/meetings/{meeting.pk}/attendance/", {"user": HUGE, "present": True}),
        (400, "post", "/api/v1/mdt/meetings/", {"team": HUGE, **year_9999}),
        (400, "post", "/api/v1/mdt/meetings/", {"team": star.pk, "repeat_weekly": True, "count": 3, **year_9999}),
        (
            400,
            "post",
            "/api/v1/mdt/meetings/",
            {"team": star.pk, "starts_at": "0001-01-01T09:00:00Z", "ends_at": "0001-01-01T10:00:00Z"},
        ),
        (
            400,
            "post",
            "/api/v1/mdt/meetings/",
            {
                "team": star.pk,
                "starts_at": "2026-03-11T09:00:00Z",
                "ends_at": "2026-03-11T10:00:00Z",
                "location": "a\x00b",
            },
        ),
        (400, "get", "/api/v1/action-items/", {"case": HUGE}),
        (400, "get", "/api/v1/mdt/meetings/", {"team": HUGE}),
        (400, "get", "/api/v1/mdt/meetings/", {"starts_after": "9999-12-31T23:59:59Z"}),
        (400, "post", "/api/v1/action-items/", {**action, "due_at": "9999-12-31T23:00:00Z"}),
        (400, "post", "/api/v1/action-items/", {**action, "due_at": "0001-01-01T00:00:00Z"}),
        (
            400,
            "post",
            "/api/v1/action-items/",
            {**action, "case": HUGE, "meeting": HUGE, "due_at": "2026-03-20T12:00:00Z"},
        ),
        (400, "post", f"/api/v1/mdt/meetings/{meeting.pk}/items/reorder/", {"items": [HUGE]}),
        (400, "post", f"/api/v1/mdt/meetings/{meeting.pk}/items/reorder/", {"items": "nope"}),
        (400, "patch", f"/api/v1/mdt/meetings/{meeting.pk}/", {"starts_at": None}),
        (404, "get", f"/api/v1/mdt/meetings/{HUGE}/", None),
        (404, "get", f"/api/v1/action-items/{HUGE}/", None),
        (404, "get", f"/api/v1/mdt/teams/{HUGE}/members/", None),
        (404, "post", f"/api/v1/mdt/items/{HUGE}/review/", {"summary": "x"}),
        (404, "get", f"/api/v1/mdt/feeds/{'a' * 5000}.ics", None),
    ]
    for expected, method, path, body in calls:
        response = client.get(path, body) if method == "get" else getattr(client, method)(path, body, format="json")
        assert response.status_code == expected, (path, body, response.status_code, response.content[:200])


def test_an_agency_code_with_a_nul_byte_is_a_400(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # PostgreSQL refuses NUL bytes in text: the code is checked before any look-up
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    client = make_client(people.star_coordinator)
    for code in ["D\x00A", "da", "X" * 40, 7]:
        response = client.post(
            "/api/v1/action-items/",
            {
                "case": case.pk,
                "meeting": meeting.pk,
                "description": "x",
                "agency": code,
                "due_at": "2026-03-20T12:00:00Z",
            },
            format="json",
        )
        assert response.status_code == 400, (code, response.content)
        # a NUL is refused by the JSON parser for any field; other bad codes by the agency field
        body = response.json()
        assert "agency" in body.get("errors", {}) or "NUL" in body["detail"], body
