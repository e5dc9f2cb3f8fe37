"""The agenda view of a case (SPEC §4): what it shows — and that it shows nothing else."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from pypdf import PdfReader

from mdt import selectors
from mdt.models import AgendaItem
from mdt.services.action_items import action_item_create, action_item_update
from mdt.services.agenda import agenda_item_review, agenda_reorder
from mdt.services.meetings import meeting_hold, meeting_publish
from tests.mdt.factories import (
    NOTE_BODY,
    PLACEMENT_ADDRESS,
    PROTECTED_DETAIL,
    YOUTH_ALIAS,
    YOUTH_FIRST_NAME,
    YOUTH_LAST_NAME,
    CaseFactory,
    NoteFactory,
    PlacementFactory,
    SafetyAlertFactory,
    YouthFactory,
)
from tests.mdt.support import NEXT_WEEK, T0, add, published_meeting, schedule

pytestmark = pytest.mark.django_db

FORBIDDEN = [
    YOUTH_FIRST_NAME,
    YOUTH_LAST_NAME,
    YOUTH_ALIAS,
    "2010-05-17",
    "05/17/2010",
    "May 17",
    NOTE_BODY,
    PLACEMENT_ADDRESS,
    PROTECTED_DETAIL,
    "1428",
]


@pytest.fixture
def sensitive_case(agencies):  # type: ignore[no-untyped-def]
    """A STAR case carrying every kind of detail the agenda view must leave out."""
    case = CaseFactory(court="STAR", youth=YouthFactory(first_name="Marisolveig", last_name="Quetzalcoatlan"))
    SafetyAlertFactory(case=case)
    SafetyAlertFactory(case=case, summary="Inactive alert", is_active=False)
    NoteFactory(case=case)
    PlacementFactory(case=case)
    return case


def test_the_agenda_view_shows_the_listed_fields_and_nothing_identifying(
    people, star, sensitive_case, make_client, frozen
):  # type: ignore[no-untyped-def]
    # given a published agenda with a case that has alerts, notes, a placement and a review
    meeting = published_meeting(star, people.star_coordinator, [sensitive_case])

    # when a member reads it as JSON and as PDF
    client = make_client(people.da_member)
    body = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/").json()
    pdf = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/", {"format": "pdf"})

    # then the case shows exactly the agenda-view fields
    (item,) = body["items"]
    assert set(item) == {
        "item",
        "position",
        "reason",
        "presenting_agency",
        "minutes_allotted",
        "case",
        "case_number",
        "youth_initials",
        "youth_age",
        "lead_agency",
        "csec_status",
        "safety_alerts",
        "open_deadlines",
        "open_action_items",
        "last_review",
        "withdrawn",  # SPEC §4: an item whose case left the court shows as withdrawn
        "withdrawn_at",
    }
    assert item["withdrawn"] is False and item["withdrawn_at"] is None
    assert item["case_number"] == sensitive_case.number
    assert item["youth_initials"] == "MQ"
    assert item["youth_age"] == 15  # born 17 May 2010, meeting on 11 March 2026
    assert item["lead_agency"] == "PROBATION"
    assert item["csec_status"] == "identified"
    assert item["safety_alerts"] == [
        {"kind": "known_exploiter", "summary": "Known exploiter: do not disclose placement or contact details"}
    ]
    assert item["last_review"] is None
    # and no name, alias, date of birth, note, placement address or protected alert detail,
    # in the JSON or in the PDF
    raw = json.dumps(body)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for secret in FORBIDDEN:
        assert secret not in raw, secret
        assert secret not in text, secret
    assert "Known exploiter" in text  # the alert summary is at the top of the case


def test_age_is_counted_on_the_meeting_day_in_pacific_time(people, star, frozen):  # type: ignore[no-untyped-def]
    # given a youth whose 16th birthday is the meeting day (a Pacific date; already the 12th in UTC at 5pm)
    case = CaseFactory(court="STAR", youth=YouthFactory(date_of_birth=dt.date(2010, 3, 11)))
    evening = dt.datetime(2026, 3, 12, 0, 30, tzinfo=dt.UTC)  # 11 March, 17:30 PDT
    meeting = published_meeting(star, people.star_coordinator, [case], starts_at=evening)
    # when / then
    (entry,) = selectors.agenda_view(user=people.da_member, meeting=meeting)
    assert entry["youth_age"] == 16


def test_a_youth_without_a_date_of_birth_has_no_age(people, star, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR", youth=YouthFactory(date_of_birth=None))
    meeting = published_meeting(star, people.star_coordinator, [case])
    (entry,) = selectors.agenda_view(user=people.da_member, meeting=meeting)
    assert entry["youth_age"] is None


def test_open_deadlines_come_from_notifications_in_one_call(people, star, monkeypatch, make_client, frozen):  # type: ignore[no-untyped-def]
    # given two cases on an agenda, and the notifications app reporting a deadline on one
    import notifications.selectors

    cases = [CaseFactory(court="STAR"), CaseFactory(court="STAR")]
    meeting = published_meeting(star, people.star_coordinator, cases)
    calls = []
    due = dt.datetime(2026, 3, 5, 18, 0, tzinfo=dt.UTC)

    def fake(*, case_ids):  # type: ignore[no-untyped-def]
        calls.append(sorted(case_ids))
        return {
            cases[0].pk: [{"rule": "missing_ncmec_24h", "label": "Report to NCMEC", "due_at": due, "status": "open"}]
        }

    monkeypatch.setattr(notifications.selectors, "open_deadlines_for_cases", fake)
    # when
    items = make_client(people.da_member).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/").json()["items"]
    # then one call for every case of the agenda, and the deadline shows with its rule and due time only
    assert calls == [sorted(c.pk for c in cases)]
    assert items[0]["open_deadlines"] == [
        {
            "rule": "missing_ncmec_24h",
            "label": "Report to NCMEC",
            "due_at": "2026-03-05T10:00:00-08:00",
            "status": "open",
        }
    ]
    assert items[1]["open_deadlines"] == []


def test_the_last_review_outcome_of_an_earlier_meeting_is_shown(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a case reviewed at last week's meeting and on this week's agenda
    case = CaseFactory(court="STAR")
    coordinator = people.star_coordinator
    last_week = published_meeting(star, coordinator, [case], starts_at=NEXT_WEEK - dt.timedelta(days=7))
    agenda_item_review(
        item=last_week.items.get(), summary="Engaged with services", decisions="Keep placement", actor=coordinator
    )
    this_week = published_meeting(star, coordinator, [case])
    # when
    (item,) = make_client(people.da_member).get(f"/api/v1/mdt/meetings/{this_week.pk}/agenda/").json()["items"]
    # then
    assert item["last_review"]["meeting"] == last_week.pk
    assert item["last_review"]["summary"] == "Engaged with services"
    assert item["last_review"]["decisions"] == "Keep placement"


def test_action_items_carry_forward_until_done_or_cancelled(people, star, frozen):  # type: ignore[no-untyped-def]
    # given three open action items agreed at meeting 1 (held)
    case = CaseFactory(court="STAR")
    coordinator = people.star_coordinator
    meeting_1 = published_meeting(star, coordinator, [case], starts_at=NEXT_WEEK - dt.timedelta(days=7))
    made = [
        action_item_create(
            case_id=case.pk,
            meeting=meeting_1,
            description=f"Step {n}",
            assignee=people.da_member,
            agency=people.da,
            due_at=T0 + dt.timedelta(days=3 + n),
            actor=coordinator,
        )
        for n in range(3)
    ]
    meeting_hold(meeting=meeting_1, actor=coordinator)
    meeting_2 = published_meeting(star, coordinator, [case])
    # when one is done and one cancelled
    action_item_update(item=made[0], data={"status": "done"}, actor=people.da_member)
    action_item_update(item=made[1], data={"status": "cancelled"}, actor=coordinator)
    # then only the open one is carried to meeting 2, with owner agency, person and due date
    (entry,) = selectors.agenda_view(user=people.da_member, meeting=meeting_2)
    assert [(a["id"], a["agency"], a["assignee"], a["due_at"]) for a in entry["open_action_items"]] == [
        (made[2].pk, "DA", people.da_member.pk, made[2].due_at)
    ]


def test_a_draft_agenda_is_for_coordinators_until_published(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a scheduled (unpublished) meeting with a case
    case = CaseFactory(court="STAR")
    meeting = schedule(star, people.star_coordinator)
    add(meeting, case, people.star_coordinator)
    # when a member and the coordinator read it
    member = make_client(people.da_member)
    coordinator = make_client(people.star_coordinator)
    # then the member sees the meeting but not yet its cases
    assert member.get(f"/api/v1/mdt/meetings/{meeting.pk}/").status_code == 200
    member_agenda = member.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/").json()
    assert member_agenda["agenda_shared"] is False and member_agenda["items"] == []
    assert member.get(f"/api/v1/mdt/meetings/{meeting.pk}/items/").json()["results"] == []
    assert [i["case"] for i in coordinator.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/").json()["items"]] == [
        case.pk
    ]
    # and once published, the member sees them
    meeting_publish(meeting=meeting, actor=people.star_coordinator)
    assert [i["case"] for i in member.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/").json()["items"]] == [case.pk]


def test_items_are_in_agenda_order(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    cases = [CaseFactory(court="STAR") for _ in range(3)]
    meeting = schedule(star, people.star_coordinator)
    items = [add(meeting, case, people.star_coordinator) for case in cases]
    agenda_reorder(meeting=meeting, item_ids=[items[2].pk, items[0].pk, items[1].pk], actor=people.star_coordinator)
    meeting_publish(meeting=meeting, actor=people.star_coordinator)
    body = make_client(people.da_member).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/").json()
    assert [(i["position"], i["case"]) for i in body["items"]] == [(1, cases[2].pk), (2, cases[0].pk), (3, cases[1].pk)]
    assert AgendaItem.objects.filter(meeting=meeting).count() == 3
