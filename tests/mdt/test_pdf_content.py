"""What the printed agenda says (SPEC §4, issue 14): an overview with each item's start time,
each action item once, one sharing-renewal line naming the agency, the alert's type once,
deadlines overdue on the meeting day marked, an attendance sheet, and a footer naming who
printed it and when. The text is read back with pypdf."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from cases.models import CaseAgency
from mdt import exports
from mdt.models import AgendaItem
from mdt.services.action_items import action_item_create
from mdt.services.agenda import agenda_item_update
from notifications.services.deadlines import deadline_open
from tests.mdt.factories import CaseFactory, SafetyAlertFactory
from tests.mdt.support import NEXT_WEEK, T0, published_meeting

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def agenda(people, star, frozen):  # type: ignore[no-untyped-def]
    """A published STAR agenda of three cases: the first with an alert, an action item due
    before the meeting and an 18961.7 sharing with DMH that runs out the day before it; the
    second with 30 minutes; the third withdrawn-free and plain."""
    cases = [CaseFactory(court="STAR") for _ in range(3)]
    SafetyAlertFactory(case=cases[0])  # "Known exploiter: do not disclose placement or contact details"
    meeting = published_meeting(star, people.star_coordinator, cases)
    first, second, _third = AgendaItem.objects.filter(meeting=meeting).order_by("position")
    agenda_item_update(
        item=first,
        data={"minutes_allotted": 20, "presenting_agency": people.agencies["SHERIFF"]},
        actor=people.star_coordinator,
    )
    agenda_item_update(item=second, data={"minutes_allotted": 30}, actor=people.star_coordinator)
    action_item_create(
        case_id=cases[0].pk,
        description="Schedule the forensic interview",
        assignee=people.da_member,
        due_at=NEXT_WEEK - dt.timedelta(days=2),
        actor=people.star_coordinator,
    )
    action_item_create(
        case_id=cases[1].pk,
        description="Find a CSEC-trained placement",
        assignee=people.dmh_clinician,
        due_at=NEXT_WEEK + dt.timedelta(days=7),
        actor=people.star_coordinator,
    )
    sharing = CaseAgency.objects.create(
        case=cases[0],
        agency=people.agencies["DMH"],
        legal_basis=CaseAgency.LegalBasis.MDT_18961_7,
        granted_at=T0,
        expires_at=NEXT_WEEK - dt.timedelta(days=1),
    )
    deadline_open(rule_code="sharing_renewal_30d", target=sharing, starts_at=T0, due_at=sharing.expires_at)
    return meeting, cases


def print_agenda(make_client, user, meeting) -> str:  # type: ignore[no-untyped-def]
    response = make_client(user).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf")
    assert response.status_code == 200, response.content
    return pdf_text(response.content)


def test_each_action_item_appears_once_and_is_not_repeated_as_a_deadline(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, _cases = agenda
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert text.count("Schedule the forensic interview") == 1
    assert text.count("Find a CSEC-trained placement") == 1
    assert "Action item due" not in text


def test_the_sharing_renewal_is_one_line_naming_the_agency(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert text.count("Sharing renewal due") == 1
    line = text.split("Sharing renewal due", 1)[1][:80]
    assert "DMH" in line and "Mar 10, 2026" in line and "OVERDUE" in line


def test_the_alert_type_is_not_repeated_in_its_text(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert text.lower().count("known exploiter") == 1
    assert "Known Exploiter — Do not disclose placement or contact details" in text


def test_the_overview_gives_each_item_its_start_time(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    text = squash(print_agenda(make_client, people.da_member, meeting))
    # the overview comes first, before the first case's block; 9:00, then +20 min, then +30 min
    overview = text.split("Overview", 1)[1].split(f"1. {cases[0].number}", 1)[0]
    assert f"1 09:00 AM {cases[0].number} Progress Review SHERIFF 20" in overview
    assert f"2 09:20 AM {cases[1].number}" in overview
    assert f"3 09:50 AM {cases[2].number}" in overview


def test_overdue_deadlines_are_marked_and_future_ones_are_not(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    text = squash(print_agenda(make_client, people.da_member, meeting))
    first = text.split(f"1. {cases[0].number}", 1)[1].split(f"2. {cases[1].number}", 1)[0]
    second = text.split(f"2. {cases[1].number}", 1)[1].split(f"3. {cases[2].number}", 1)[0]
    interview = first.split("Schedule the forensic interview", 1)[1][:80]
    assert "OVERDUE" in interview  # due two days before the meeting
    assert "OVERDUE" not in second  # the placement is due a week after it


def test_the_attendance_sheet_closes_the_agenda_with_members_and_presenters(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    text = squash(print_agenda(make_client, people.da_member, meeting))
    sheet = text.rsplit("Attendance sheet", 1)[1]
    assert "Present / signature" in sheet
    assert people.da_member.get_full_name() in sheet
    assert people.star_coordinator.get_full_name() in sheet and "Coordinator" in sheet
    assert people.dmh_clinician.get_full_name() in sheet
    assert "SHERIFF Presenter" in sheet  # a line for the presenting agency
    assert people.outsider.get_full_name() not in sheet
    assert cases[2].number not in sheet  # it comes after the last case


def test_the_footer_names_who_printed_it_and_when_in_pacific_time(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, _cases = agenda
    response = make_client(people.da_member).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf")
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(response.content)).pages]
    stamp = "Printed by Dana Attorney (DA) on Mar 02, 2026 09:00 AM PST"
    assert all(stamp in page for page in pages)
    assert all(exports.CONFIDENTIALITY_HEADING in page for page in pages)


def test_a_withdrawn_item_shows_only_its_number_and_position(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    from mdt.services.agenda import agenda_case_withdraw

    agenda_case_withdraw(case=cases[1], actor=people.star_coordinator, why="left the court", court="STAR")
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert f"2. {cases[1].number} — withdrawn" in text
    assert "Find a CSEC-trained placement" not in text
    overview = text.split("Overview", 1)[1].split(f"1. {cases[0].number}", 1)[0]
    assert f"2 — {cases[1].number} Withdrawn" in overview
    # a withdrawn item takes no time: the third starts right after the first
    assert f"3 09:20 AM {cases[2].number}" in overview


def test_a_name_with_css_characters_prints_as_text(people, agenda, make_client):  # type: ignore[no-untyped-def]
    meeting, _cases = agenda
    people.da_member.first_name = 'Dana"; } @page { x'
    people.da_member.save()
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert 'Printed by Dana"; } @page { x Attorney (DA)' in text


# --- laid out once per content, stamped per reader (issue 14's 0.5 s, issue 19's 250 ms) ---------


@pytest.fixture
def renders(monkeypatch):  # type: ignore[no-untyped-def]
    """The HTML documents WeasyPrint laid out, in order."""
    laid_out: list[str] = []
    real = exports._render

    def counting(html: str) -> bytes:
        laid_out.append("footer" if "agenda_footer" in html or 'class="printed"' in html else "pages")
        return real(html)

    monkeypatch.setattr(exports, "_render", counting)
    return laid_out


def test_a_reprint_reuses_the_pages_and_stamps_each_reader_on_every_page(people, agenda, make_client, renders):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    # given the agenda printed once by the district attorney's member
    first = print_agenda(make_client, people.da_member, meeting)
    assert renders == ["pages", "footer"]
    # when the coordinator prints the unchanged agenda
    response = make_client(people.star_coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf")
    # then only the footer was laid out again, and every page names the coordinator, not the member
    assert renders == ["pages", "footer", "footer"]
    pages = [squash(p.extract_text()) for p in PdfReader(io.BytesIO(response.content)).pages]
    name = people.star_coordinator.get_full_name()
    assert all(f"Printed by {name}" in page for page in pages)
    assert not any("Printed by Dana Attorney" in page for page in pages)
    # and the content is the same agenda
    assert squash(first).split("Printed by")[0] == squash("\n".join(pages)).split("Printed by")[0]
    assert all(case.number in squash("\n".join(pages)) for case in cases)


def test_a_change_to_what_the_agenda_shows_is_laid_out_again(people, agenda, make_client, renders):  # type: ignore[no-untyped-def]
    meeting, cases = agenda
    print_agenda(make_client, people.da_member, meeting)
    # when a safety alert is raised on the third case after the first print
    SafetyAlertFactory(case=cases[2], summary="Recruiter seen near the group home")
    text = squash(print_agenda(make_client, people.da_member, meeting))
    # then the reprint shows it: the pages were laid out again
    assert renders == ["pages", "footer", "pages", "footer"]
    assert "Recruiter seen near the group home" in text


def test_the_stored_pages_are_encrypted_and_unreadable_ones_redone(people, agenda, make_client, renders):  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet
    from django.db import connection

    from cases import crypto
    from mdt.models import AgendaRendering

    meeting, cases = agenda
    print_agenda(make_client, people.da_member, meeting)
    # the stored bytes are a Fernet token: no PDF, no case number, readable only with the keys
    with connection.cursor() as cursor:
        cursor.execute("SELECT pdf, fingerprint FROM mdt_agendarendering WHERE meeting_id = %s", [meeting.pk])
        raw, fingerprint = cursor.fetchone()
    raw = bytes(raw)
    assert not raw.startswith(b"%PDF") and cases[0].number.encode() not in raw
    assert crypto.fernet().decrypt(raw).startswith(b"%PDF")
    assert len(fingerprint) == 64 and AgendaRendering.objects.count() == 1
    # when the stored token can no longer be read (made under a key since retired)
    retired = Fernet(Fernet.generate_key()).encrypt(b"%PDF-1.7 an old rendering")
    AgendaRendering.objects.filter(meeting=meeting).update(pdf=retired)
    text = squash(print_agenda(make_client, people.da_member, meeting))
    # then the agenda is laid out again rather than failing, and stored in its place
    assert renders == ["pages", "footer", "pages", "footer"]
    assert cases[0].number in text
    assert crypto.fernet().decrypt(bytes(AgendaRendering.objects.get(meeting=meeting).pdf)).startswith(b"%PDF")


def test_a_meeting_held_at_the_court_names_the_place_once(people, agenda, make_client, star):  # type: ignore[no-untyped-def]
    meeting, _cases = agenda
    star.court_location = "Edelman Children's Court, Dept. 415"
    star.save(update_fields=["court_location"])
    meeting.location = star.court_location
    meeting.save(update_fields=["location"])
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert text.count("Edelman Children's Court, Dept. 415") == 1
    # a meeting elsewhere names both: where it meets, and the team's court
    meeting.location = "https://video.example/star"
    meeting.save(update_fields=["location"])
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert "https://video.example/star" in text and "Edelman Children's Court, Dept. 415" in text


def test_publishing_lays_the_pages_out_ahead_so_the_first_print_only_stamps(  # type: ignore[no-untyped-def]
    people, star, make_client, renders, settings, eager_celery, django_capture_on_commit_callbacks, frozen
):
    from mdt.models import AgendaRendering
    from mdt.services.agenda import agenda_item_add
    from mdt.services.meetings import meeting_publish
    from tests.mdt.support import schedule

    settings.HARBOR_AGENDA_PDF_PREPARE = True
    cases = [CaseFactory(court="STAR") for _ in range(2)]
    meeting = schedule(star, people.star_coordinator)
    agenda_item_add(meeting=meeting, case_id=cases[0].pk, reason="progress_review", actor=people.star_coordinator)
    assert renders == [] and not AgendaRendering.objects.exists()  # nothing before publishing
    # when the coordinator publishes: the worker lays the pages out once the publish commits
    with django_capture_on_commit_callbacks(execute=True):
        meeting_publish(meeting=meeting, actor=people.star_coordinator)
    assert renders == ["pages"]
    # then the member's first print only stamps their footer
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert renders == ["pages", "footer"]
    assert cases[0].number in text and "Printed by Dana Attorney" in text
    # and a change after publishing lays the new agenda out ahead too
    with django_capture_on_commit_callbacks(execute=True):
        agenda_item_add(meeting=meeting, case_id=cases[1].pk, reason="progress_review", actor=people.star_coordinator)
    assert renders == ["pages", "footer", "pages"]
    text = squash(print_agenda(make_client, people.da_member, meeting))
    assert renders == ["pages", "footer", "pages", "footer"]
    assert cases[1].number in text


def test_an_unpublished_or_deleted_meeting_is_not_laid_out_ahead(people, star, renders, frozen):  # type: ignore[no-untyped-def]
    from tests.mdt.support import schedule

    meeting = schedule(star, people.star_coordinator)
    assert exports.agenda_pages_prepare(meeting_id=meeting.pk) is False
    assert exports.agenda_pages_prepare(meeting_id=10**9) is False
    assert renders == []
