"""MDT reads and writes in the audit log (SPEC §5): one event per object shown, with the youth
of each case involved, and nothing identifying in the events."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from audit.models import AuditEvent
from mdt.services.action_items import action_item_create
from mdt.services.meetings import meeting_publish
from tests.mdt.factories import YOUTH_ALIAS, YOUTH_FIRST_NAME, YOUTH_LAST_NAME, CaseFactory, CourtHearingFactory
from tests.mdt.support import NEXT_WEEK, T0, published_meeting

pytestmark = pytest.mark.django_db


def test_case_data_reads_name_the_youth_of_every_case(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a published agenda of two cases with an action item each
    cases = [CaseFactory(court="STAR"), CaseFactory(court="STAR")]
    for _ in cases:
        # suggested: a hearing in the 14 days after the meeting
        CourtHearingFactory(case=CaseFactory(court="STAR"), starts_at=NEXT_WEEK + dt.timedelta(days=3))
    meeting = published_meeting(star, people.star_coordinator, cases)
    for case in cases:
        action_item_create(
            case_id=case.pk,
            meeting=meeting,
            description="step",
            assignee=None,
            agency=people.da,
            due_at=T0 + dt.timedelta(days=3),
            actor=people.star_coordinator,
        )
    youth = {c.youth_id for c in cases}
    client = make_client(people.star_coordinator)
    # when the coordinator reads items, the agenda (JSON and PDF), action items and suggestions
    for path in [
        f"/api/v1/mdt/meetings/{meeting.pk}/items/",
        f"/api/v1/mdt/meetings/{meeting.pk}/agenda/",
        f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf",
        "/api/v1/action-items/",
        f"/api/v1/mdt/meetings/{meeting.pk}/suggestions/",
    ]:
        assert client.get(path).status_code == 200
    # then each read names the youth of every case it showed
    mine = AuditEvent.objects.filter(actor_id=people.star_coordinator.pk)
    # (a list page is one event carrying the youth ids it showed, SPEC §5)
    assert {y for e in mine.filter(object_type="mdt_agenda_item", action="list") for y in e.youth_ids} == youth
    assert {e.youth_id for e in mine.filter(object_type="case_agenda_view", action="view")} == youth
    assert {e.youth_id for e in mine.filter(object_type="case_agenda_view", action="export")} == youth
    assert {y for e in mine.filter(object_type="mdt_action_item", action="list") for y in e.youth_ids} == youth
    (suggestions,) = mine.filter(object_type="mdt_suggestion", action="list")
    assert len(suggestions.object_ids) == 2
    # and no event carries a name, an alias or a date of birth
    everything = json.dumps([[e.object_type, e.object_id, e.detail] for e in AuditEvent.objects.all()])
    for secret in (YOUTH_FIRST_NAME, YOUTH_LAST_NAME, YOUTH_ALIAS, "2010-05-17"):
        assert secret not in everything


def test_writes_are_audited_in_their_transaction(people, star, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    events = AuditEvent.objects.filter(actor_id=people.star_coordinator.pk).values_list(
        "action", "object_type", "youth_id"
    )
    assert ("create", "mdt_meeting", None) in events
    assert ("create", "mdt_agenda_item", case.youth_id) in events
    assert ("transition", "mdt_meeting", None) in events
    # a refused write leaves no event
    before = AuditEvent.objects.count()
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        meeting_publish(meeting=meeting, actor=people.star_coordinator)
    assert AuditEvent.objects.count() == before
