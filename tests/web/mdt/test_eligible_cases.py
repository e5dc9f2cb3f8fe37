"""The agenda builder's find-a-case-by-number (issue 16 §3): the eligible-cases search of the
API (`GET /api/v1/mdt/teams/{id}/eligible-cases/`) — the team's court's open cases, each as its
agenda view, audited alike — for the team's coordinators only."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from cases.models import Case
from tests.mdt.factories import YOUTH_FIRST_NAME, CaseFactory
from tests.mdt.support import schedule

pytestmark = pytest.mark.django_db


def test_a_coordinator_finds_the_courts_open_cases_by_number(people, star, web, frozen):
    coordinator = web(people.star_coordinator)
    meeting = schedule(star, people.star_coordinator)
    wanted = CaseFactory(court="STAR")
    closed = CaseFactory(court="STAR", status=Case.Status.CLOSED)
    elsewhere = CaseFactory(court="DREAM")

    def found(number):  # type: ignore[no-untyped-def]
        page = coordinator.get(f"/app/mdt/meetings/{meeting.pk}/agenda/", {"number": number})
        assert page.status_code == 200
        body = page.content.decode()
        return body.split('id="found-heading"')[1] if 'id="found-heading"' in body else ""

    first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    shown = found(wanted.number[-6:])
    assert wanted.number in shown and YOUTH_FIRST_NAME not in shown
    events = AuditEvent.objects.filter(id__gt=first, action="list", object_type="case_agenda_view")
    assert any(str(wanted.pk) in {e.object_id, *map(str, e.object_ids or [])} for e in events)
    # a closed case and another court's case are not found, even by their whole number
    assert closed.number not in found(closed.number)
    assert elsewhere.number not in found(elsewhere.number)
    # too short a number is refused at the field
    short = coordinator.get(f"/app/mdt/meetings/{meeting.pk}/agenda/", {"number": "12"})
    assert short.status_code == 400 and 'id="error-summary"' in short.content.decode()


def test_only_coordinators_search(people, star, web, frozen):
    meeting = schedule(star, people.star_coordinator)
    wanted = CaseFactory(court="STAR")
    answer = web(people.da_member).get(f"/app/mdt/meetings/{meeting.pk}/agenda/", {"number": wanted.number})
    assert answer.status_code == 403 and wanted.number not in answer.content.decode()
    assert not AuditEvent.objects.filter(object_type="case_agenda_view", actor_id=people.da_member.pk).exists()
