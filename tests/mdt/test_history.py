"""SPEC §2 History: MDT reviews and minutes keep their history — an edit never overwrites
without a trace; each earlier version is kept with its author and time (and stays encrypted)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from mdt.models import AgendaItem, Meeting
from tests.mdt.factories import CaseFactory
from tests.mdt.support import published_meeting

pytestmark = pytest.mark.django_db

MINUTES_1 = "Minutes-draft-okapi"
MINUTES_2 = "Minutes-final-pangolin"


def test_editing_the_minutes_keeps_the_previous_version_with_its_author_and_time(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a published meeting whose minutes the coordinator writes over HTTP
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/"
    assert client.patch(url, {"minutes": MINUTES_1}, format="json").status_code == 200
    written_1 = Meeting.objects.get(pk=meeting.pk).updated_at
    # when they are rewritten later
    frozen.shift(dt.timedelta(minutes=20))
    response = client.patch(url, {"minutes": MINUTES_2}, format="json")
    assert response.status_code == 200, response.content
    # then both versions are in the history, newest first, each with who and when
    versions = list(Meeting.history.filter(id=meeting.pk).order_by("-history_date", "-history_id"))
    minutes = [(v.minutes, v.history_user_id, v.history_date) for v in versions if v.minutes]
    assert minutes[0] == (MINUTES_2, people.star_coordinator.pk, written_1 + dt.timedelta(minutes=20))
    assert minutes[1] == (MINUTES_1, people.star_coordinator.pk, written_1)
    assert Meeting.objects.get(pk=meeting.pk).minutes == MINUTES_2


def test_minutes_stay_encrypted_in_the_history_table(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.star_coordinator)
    client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"minutes": MINUTES_1}, format="json")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT minutes FROM {Meeting.history.model._meta.db_table}")  # noqa: S608
        stored = json.dumps(cursor.fetchall())
    assert MINUTES_1 not in stored
    assert Meeting.history.filter(id=meeting.pk, minutes=MINUTES_1).exists() is False  # not searchable either


def test_a_review_edit_keeps_the_earlier_outcome_with_its_author_and_time(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given an item reviewed by the coordinator, then reviewed again by another member
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    item = meeting.items.get()
    url = f"/api/v1/mdt/items/{item.pk}/review/"
    first = make_client(people.star_coordinator).post(url, {"summary": "Outcome one", "decisions": "d1"}, format="json")
    assert first.status_code in (200, 201), first.content
    reviewed_1 = AgendaItem.objects.get(pk=item.pk).reviewed_at
    frozen.shift(dt.timedelta(minutes=25))
    second = make_client(people.da_member).post(url, {"summary": "Outcome two", "decisions": "d2"}, format="json")
    assert second.status_code in (200, 201), second.content
    # then the item's history holds both outcomes with their authors and times …
    rows = [
        (h.review_summary, h.history_user_id, h.history_date)
        for h in AgendaItem.history.filter(id=item.pk).order_by("history_date", "history_id")
        if h.review_summary
    ]
    assert rows == [
        ("Outcome one", people.star_coordinator.pk, reviewed_1),
        ("Outcome two", people.da_member.pk, reviewed_1 + dt.timedelta(minutes=25)),
    ]
    # … and the agenda item still lists every review version, newest first
    versions = make_client(people.da_member).get(f"/api/v1/mdt/meetings/{meeting.pk}/items/").json()
    entry = versions["results"][0] if isinstance(versions, dict) else versions[0]
    assert [v["summary"] for v in entry["review_versions"]] == ["Outcome two", "Outcome one"]
