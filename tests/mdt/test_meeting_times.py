"""Meeting times (SPEC §4, §6): no meeting in the past, and no time without an offset."""

from __future__ import annotations

import datetime as dt

import pytest

from mdt.models import Meeting
from tests.mdt.support import NEXT_WEEK, T0, schedule

pytestmark = pytest.mark.django_db


def _create(client, team, starts_at, ends_at):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/mdt/meetings/", {"team": team.pk, "starts_at": starts_at, "ends_at": ends_at}, format="json"
    )


def test_a_meeting_cannot_be_scheduled_in_the_past(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    yesterday = T0 - dt.timedelta(days=1)
    response = _create(
        make_client(people.star_coordinator),
        star,
        yesterday.isoformat(),
        (yesterday + dt.timedelta(hours=2)).isoformat(),
    )
    assert response.status_code == 400
    assert "past" in response.json()["errors"]["starts_at"][0]
    assert not Meeting.objects.exists()


def test_a_meeting_cannot_be_moved_into_the_past(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    earlier = T0 - dt.timedelta(hours=3)
    response = make_client(people.star_coordinator).patch(
        f"/api/v1/mdt/meetings/{meeting.pk}/",
        {"starts_at": earlier.isoformat(), "ends_at": (earlier + dt.timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    meeting.refresh_from_db()
    assert meeting.starts_at == NEXT_WEEK


def test_a_meeting_that_already_started_keeps_its_minutes_editable(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # the rule is about scheduling: a meeting that began may still have its place or minutes edited
    meeting = schedule(star, people.star_coordinator)
    frozen.move_to(NEXT_WEEK + dt.timedelta(minutes=30))
    response = make_client(people.star_coordinator).patch(
        f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "Room 5"}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/v1/mdt/meetings/", "starts_at"), ("/api/v1/action-items/", "due_at")],
)
def test_a_time_without_an_offset_is_a_400_not_read_as_pacific(people, star, make_client, frozen, path, field):  # type: ignore[no-untyped-def]
    body = {
        "team": star.pk,
        "starts_at": "2026-03-20T09:00:00",
        "ends_at": "2026-03-20T11:00:00-07:00",
        "case": 1,
        "description": "x",
        "due_at": "2026-03-20T09:00:00",
    }
    response = make_client(people.star_coordinator).post(path, body, format="json")
    assert response.status_code == 400
    assert "offset" in response.json()["errors"][field][0]


def test_a_filter_time_without_an_offset_is_a_400(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    response = make_client(people.star_coordinator).get("/api/v1/mdt/meetings/", {"starts_after": "2026-03-20T09:00"})
    assert response.status_code == 400
