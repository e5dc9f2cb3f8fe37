"""Review outcomes are versioned (SPEC §4): an edit is a new version, the earlier kept with its
author and time; the narrative is encrypted at rest and never in the audit log."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps
from django.db import connection

from audit.models import AuditEvent
from mdt.models import ReviewVersion
from mdt.services.agenda import agenda_item_review
from tests.mdt.factories import CaseFactory
from tests.mdt.support import published_meeting

pytestmark = pytest.mark.django_db

SUMMARY = "Outcome-text-quokka"
#: Distinctive, so the ciphertext cannot contain it by chance (a two-letter "d1" sometimes did).
DECISIONS = "Decision-text-wombat"


def _reviewed_twice(people, star, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    item = meeting.items.get()
    agenda_item_review(item=item, summary=SUMMARY, decisions=DECISIONS, actor=people.star_coordinator)
    frozen.shift(dt.timedelta(minutes=30))
    agenda_item_review(item=item, summary=f"{SUMMARY}-2", decisions="d2", actor=people.da_member)
    return item


def test_each_review_is_a_version_and_the_item_shows_the_latest(people, star, frozen):  # type: ignore[no-untyped-def]
    # given / when
    item = _reviewed_twice(people, star, frozen)
    # then
    versions = list(ReviewVersion.objects.filter(item=item))
    assert [(v.version, v.summary, v.reviewed_by_id) for v in versions] == [
        (2, f"{SUMMARY}-2", people.da_member.pk),
        (1, SUMMARY, people.star_coordinator.pk),
    ]
    assert versions[0].reviewed_at - versions[1].reviewed_at == dt.timedelta(minutes=30)
    item.refresh_from_db()
    assert (item.review_summary, item.reviewed_by_id, item.reviewed_at) == (
        f"{SUMMARY}-2",
        people.da_member.pk,
        versions[0].reviewed_at,
    )


def test_the_audit_names_the_version_never_the_text(people, star, frozen):  # type: ignore[no-untyped-def]
    item = _reviewed_twice(people, star, frozen)
    events = AuditEvent.objects.filter(object_type="mdt_review", object_id=str(item.pk)).order_by("id")
    assert [(e.action, e.detail["version"]) for e in events] == [("create", 1), ("update", 2)]
    assert SUMMARY not in json.dumps([e.detail for e in AuditEvent.objects.all()])


def test_versions_are_encrypted_at_rest(people, star, frozen):  # type: ignore[no-untyped-def]
    _reviewed_twice(people, star, frozen)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT summary, decisions FROM {ReviewVersion._meta.db_table}")  # noqa: S608
        stored = json.dumps(cursor.fetchall())
    assert SUMMARY not in stored and DECISIONS not in stored


def test_outcomes_recorded_before_versions_become_version_one(people, star, frozen):  # type: ignore[no-untyped-def]
    # given an item reviewed before review versions existed (its version rows missing)
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    item = agenda_item_review(
        item=meeting.items.get(), summary=SUMMARY, decisions=DECISIONS, actor=people.star_coordinator
    )
    ReviewVersion.objects.all().delete()
    # when the migration's data step runs
    migration = importlib.import_module("mdt.migrations.0002_review_outcome_versions")
    migration.first_versions_from_recorded_reviews(apps, None)
    # then
    (version,) = ReviewVersion.objects.all()
    assert (version.item_id, version.version, version.summary, version.decisions) == (item.pk, 1, SUMMARY, DECISIONS)
    assert (version.reviewed_by_id, version.reviewed_at) == (people.star_coordinator.pk, item.reviewed_at)
