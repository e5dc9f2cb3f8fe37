"""The issue's "done when", tried through the API as a new user would."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from audit.models import AuditEvent
from mdt.exports import CONFIDENTIALITY_HEADING
from tests.mdt.factories import YOUTH_ALIAS, YOUTH_FIRST_NAME, YOUTH_LAST_NAME, CaseFactory

pytestmark = pytest.mark.django_db

DOB_STRINGS = ["2010-05-17", "05/17/2010", "5/17/2010", "May 17, 2010", "17 May 2010"]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def scenario(people, star, dream, make_client) -> None:  # type: ignore[no-untyped-def]
    star_cases = [CaseFactory(court="STAR"), CaseFactory(court="STAR")]
    dream_case = CaseFactory(court="DREAM", lead_agency=people.agencies["DCFS"])
    coordinator = make_client(people.star_coordinator)

    # given a STAR coordinator who schedules next week's meeting and puts two STAR cases on it
    created = coordinator.post(
        "/api/v1/mdt/meetings/",
        {
            "team": star.pk,
            "starts_at": "2026-03-11T09:00:00-07:00",
            "ends_at": "2026-03-11T11:00:00-07:00",
            "location": "Compton Courthouse, Dept. 2",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    meeting_id = created.json()["id"]
    assert created.json()["status"] == "scheduled"
    for case in star_cases:
        added = coordinator.post(
            f"/api/v1/mdt/meetings/{meeting_id}/items/", {"case": case.pk, "reason": "progress_review"}, format="json"
        )
        assert added.status_code == 201, added.content
    # a DREAM case cannot go on the STAR agenda
    wrong_court = coordinator.post(
        f"/api/v1/mdt/meetings/{meeting_id}/items/", {"case": dream_case.pk, "reason": "progress_review"}, format="json"
    )
    assert wrong_court.status_code == 400
    assert "case" in wrong_court.json()["errors"]
    published = coordinator.post(f"/api/v1/mdt/meetings/{meeting_id}/publish/")
    assert published.status_code == 200
    assert published.json()["status"] == "published"

    # when a STAR member (a district attorney) reads the agenda as JSON, PDF and iCalendar
    da = make_client(people.da_member)
    agenda = da.get(f"/api/v1/mdt/meetings/{meeting_id}/agenda/")
    pdf = da.get(f"/api/v1/mdt/meetings/{meeting_id}/agenda/?format=pdf")
    ics_1 = da.get(f"/api/v1/mdt/meetings/{meeting_id}/calendar.ics")
    ics_2 = da.get(f"/api/v1/mdt/meetings/{meeting_id}/calendar.ics")

    # then the JSON agenda lists both cases, without names or dates of birth
    assert agenda.status_code == 200, agenda.content
    body = agenda.json()
    assert [item["case_number"] for item in body["items"]] == [c.number for c in star_cases]
    assert body["confidentiality"] == CONFIDENTIALITY_HEADING
    raw = json.dumps(body)
    for secret in [YOUTH_FIRST_NAME, YOUTH_LAST_NAME, YOUTH_ALIAS, *DOB_STRINGS]:
        assert secret not in raw
    # the PDF carries the heading and the case numbers, and no name or date of birth
    assert pdf.status_code == 200, pdf.content[:200]
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert CONFIDENTIALITY_HEADING in text
    for case in star_cases:
        assert case.number in text
    for secret in [YOUTH_FIRST_NAME, YOUTH_LAST_NAME, YOUTH_ALIAS, *DOB_STRINGS]:
        assert secret not in text
    # the calendar parses, its UID is the same on every download, and its times are UTC
    assert ics_1.status_code == 200
    assert ics_1["Content-Type"].startswith("text/calendar")
    events_1 = [c for c in Calendar.from_ical(ics_1.content).walk("VEVENT")]
    events_2 = [c for c in Calendar.from_ical(ics_2.content).walk("VEVENT")]
    assert len(events_1) == 1
    assert str(events_1[0]["UID"]) == str(events_2[0]["UID"])
    assert events_1[0].decoded("DTSTART") == dt.datetime(2026, 3, 11, 16, 0, tzinfo=dt.UTC)
    assert b"DTSTART:20260311T160000Z" in ics_1.content
    for case in star_cases:
        assert case.number.encode() not in ics_1.content

    # a DREAM member gets 404 on that meeting, its agenda and its calendar
    dream = make_client(people.dream_member)
    for path in ["", "agenda/", "agenda/?format=pdf", "calendar.ics", "items/"]:
        assert dream.get(f"/api/v1/mdt/meetings/{meeting_id}/{path}").status_code == 404, path

    # and every read was audited with the youth it concerns
    youth_ids = {c.youth_id for c in star_cases}
    views = AuditEvent.objects.filter(actor_id=people.da_member.pk, object_type="case_agenda_view")
    assert {e.youth_id for e in views.filter(action="view")} == youth_ids
    assert {e.youth_id for e in views.filter(action="export")} == youth_ids
    assert (
        AuditEvent.objects.filter(
            actor_id=people.da_member.pk, action="export", object_type="mdt_meeting", detail__format="ics"
        ).count()
        == 2
    )


def test_coordinator_publishes_and_a_member_reads_json_pdf_and_ics(people, star, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    scenario(people, star, dream, make_client)


@pytest.mark.postgres
def test_the_same_on_postgresql(people, star, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    scenario(people, star, dream, make_client)


def test_an_action_item_from_meeting_1_carries_forward_until_done(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given meeting 1 with a case, held, where an action item is recorded for the DA
    case = CaseFactory(court="STAR")
    coordinator = make_client(people.star_coordinator)

    def new_meeting(starts_at: str) -> int:
        response = coordinator.post(
            "/api/v1/mdt/meetings/",
            {
                "team": star.pk,
                "starts_at": starts_at,
                "ends_at": starts_at.replace("T09", "T11"),
                "location": "Dept. 2",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        meeting_id = response.json()["id"]
        assert (
            coordinator.post(
                f"/api/v1/mdt/meetings/{meeting_id}/items/",
                {"case": case.pk, "reason": "progress_review"},
                format="json",
            ).status_code
            == 201
        )
        assert coordinator.post(f"/api/v1/mdt/meetings/{meeting_id}/publish/").status_code == 200
        return meeting_id

    meeting_1 = new_meeting("2026-03-04T09:00:00-08:00")
    created = coordinator.post(
        "/api/v1/action-items/",
        {
            "case": case.pk,
            "meeting": meeting_1,
            "description": "Request school records",
            "assignee": people.da_member.pk,
            "agency": "DA",
            "due_at": "2026-03-09T17:00:00-07:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    action_id = created.json()["id"]
    assert coordinator.post(f"/api/v1/mdt/meetings/{meeting_1}/hold/").status_code == 200
    meeting_2 = new_meeting("2026-03-11T09:00:00-07:00")

    # when a member reads meeting 2's agenda
    da = make_client(people.da_member)
    carried = da.get(f"/api/v1/mdt/meetings/{meeting_2}/agenda/").json()["items"][0]["open_action_items"]

    # then the open action item from meeting 1 is there, with its owner agency, person and due date
    assert [(a["id"], a["agency"], a["assignee"], a["meeting"]) for a in carried] == [
        (action_id, "DA", people.da_member.pk, meeting_1)
    ]
    assert carried[0]["assignee_name"] == "Dana Attorney"
    assert carried[0]["due_at"] == "2026-03-09T17:00:00-07:00"

    # and once the assignee marks it done, it is gone from the agenda view
    done = da.patch(f"/api/v1/action-items/{action_id}/", {"status": "done"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    assert da.get(f"/api/v1/mdt/meetings/{meeting_2}/agenda/").json()["items"][0]["open_action_items"] == []
