"""A case whose court changes (SPEC §4): it leaves the old court's unpublished agendas; a
published agenda shows it as withdrawn, without its agenda view; the old team's members lose
sight of the case through that agenda. Driven over HTTP by the lead agency's supervisor and
the STAR team's members."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from audit.models import AuditEvent
from cases.models import Case
from cases.services import cases as case_services
from mdt.models import AgendaItem
from mdt.services.action_items import action_item_create
from notifications.models import Notification
from tests.factories import UserFactory
from tests.mdt.factories import CaseFactory, YouthFactory
from tests.mdt.support import NEXT_WEEK, add, published_meeting, schedule

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def ok(response, status=200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response.content else None


@pytest.fixture
def lead_supervisor(people):  # type: ignore[no-untyped-def]
    return UserFactory(username="probation_sup", agency=people.agencies["PROBATION"], role="supervisor")


@pytest.fixture
def moving_case(agencies):  # type: ignore[no-untyped-def]
    return CaseFactory(court="STAR", youth=YouthFactory(first_name="Wilhelmina", last_name="Zabrowski"))


def change_court(client, case: Case, court: str):  # type: ignore[no-untyped-def]
    url = f"/api/v1/cases/{case.pk}/"
    etag = client.get(url)["ETag"]
    return client.patch(url, {"court": court}, format="json", HTTP_IF_MATCH=etag)


def test_a_case_whose_court_changes_leaves_drafts_and_shows_withdrawn_on_published_agendas(  # type: ignore[no-untyped-def]
    people, star, moving_case, make_client, frozen, lead_supervisor
):
    # given the case on a published STAR agenda (with a second case) and on a draft one
    other = CaseFactory(court="STAR")
    published = published_meeting(star, people.star_coordinator, [moving_case, other])
    draft = schedule(star, people.star_coordinator, NEXT_WEEK.replace(day=18))
    add(draft, moving_case, people.star_coordinator)
    add(draft, other, people.star_coordinator)
    assert moving_case.lead_agency.code == "PROBATION"
    member = make_client(people.da_member)
    before = ok(member.get(f"/api/v1/mdt/meetings/{published.pk}/agenda/"))
    assert before["items"][0]["youth_initials"] == "WZ"
    notices = Notification.objects.count()
    views = AuditEvent.objects.filter(object_type="case_agenda_view", object_id=str(moving_case.pk))
    viewed = views.count()

    # when the lead agency moves the case to DREAM
    ok(change_court(make_client(lead_supervisor), moving_case, "DREAM"))

    # then it left the draft agenda, whose other item moved up
    assert list(AgendaItem.objects.filter(meeting=draft).values_list("case_id", "position")) == [(other.pk, 1)]
    # the published agenda keeps it in its place, shown as withdrawn, with no agenda view
    agenda = ok(member.get(f"/api/v1/mdt/meetings/{published.pk}/agenda/"))
    withdrawn, kept = agenda["items"]
    assert withdrawn["withdrawn"] is True and withdrawn["withdrawn_at"]
    assert withdrawn["case_number"] == moving_case.number and withdrawn["position"] == 1
    assert withdrawn["youth_initials"] == "" and withdrawn["youth_age"] is None
    assert withdrawn["lead_agency"] is None and withdrawn["csec_status"] is None
    assert withdrawn["safety_alerts"] == [] and withdrawn["open_deadlines"] == []
    assert withdrawn["open_action_items"] == [] and withdrawn["last_review"] is None
    assert kept["withdrawn"] is False and kept["case"] == other.pk
    # the PDF says so, and names nothing of the youth
    pdf = member.get(f"/api/v1/mdt/meetings/{published.pk}/agenda/", {"format": "pdf"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"{moving_case.number} — withdrawn" in text and "WZ" not in text
    # the items list marks it too
    items = ok(member.get(f"/api/v1/mdt/meetings/{published.pk}/items/"))["results"]
    assert [i["withdrawn_at"] is not None for i in items] == [True, False]
    # the team was told the published agenda changed
    assert Notification.objects.count() > notices
    # and no agenda view of the withdrawn case was shown, so none was audited
    assert views.count() == viewed == 1


def test_the_old_team_loses_sight_of_the_withdrawn_case_and_cannot_work_it(  # type: ignore[no-untyped-def]
    people, star, moving_case, make_client, frozen, lead_supervisor
):
    # given the case on a published STAR agenda that is in session
    published = published_meeting(star, people.star_coordinator, [moving_case])
    item = AgendaItem.objects.get(meeting=published, case=moving_case)
    coordinator = make_client(people.star_coordinator)
    # when its court is cleared
    ok(change_court(make_client(lead_supervisor), moving_case, ""))
    # then a review of the withdrawn item is refused (409), and so is editing it
    response = coordinator.post(f"/api/v1/mdt/items/{item.pk}/review/", {"summary": "Synthetic"}, format="json")
    assert response.status_code == 409, response.content
    response = coordinator.patch(f"/api/v1/mdt/items/{item.pk}/", {"minutes_allotted": 5}, format="json")
    assert response.status_code == 409, response.content
    # no action item can be recorded for it through that agenda
    with pytest.raises(Exception, match="agenda"):
        action_item_create(
            case_id=moving_case.pk,
            meeting=published,
            description="Synthetic",
            assignee=None,
            agency=people.star_coordinator.agency,
            due_at=NEXT_WEEK,
            actor=people.star_coordinator,
        )
    # the coordinator may still take the withdrawn item off the agenda
    ok(coordinator.delete(f"/api/v1/mdt/items/{item.pk}/"), 204)
    assert not AgendaItem.objects.filter(pk=item.pk).exists()


def test_setting_the_court_back_restores_nothing_until_a_coordinator_adds_the_case_again(  # type: ignore[no-untyped-def]
    people, star, moving_case, make_client, frozen, lead_supervisor
):
    published = published_meeting(star, people.star_coordinator, [moving_case])
    lead = make_client(lead_supervisor)
    ok(change_court(lead, moving_case, "DREAM"))
    ok(change_court(lead, moving_case, "STAR"))
    member = make_client(people.da_member)
    (entry,) = ok(member.get(f"/api/v1/mdt/meetings/{published.pk}/agenda/"))["items"]
    assert entry["withdrawn"] is True
    # when the coordinator adds it again, it is back with its agenda view
    ok(
        make_client(people.star_coordinator).post(
            f"/api/v1/mdt/meetings/{published.pk}/items/",
            {"case": moving_case.pk, "reason": "court_date"},
            format="json",
        ),
        201,
    )
    (entry,) = ok(member.get(f"/api/v1/mdt/meetings/{published.pk}/agenda/"))["items"]
    assert entry["withdrawn"] is False and entry["youth_initials"] == "WZ" and entry["reason"] == "court_date"


def test_closing_a_case_takes_it_off_drafts_and_cancels_its_action_items(  # type: ignore[no-untyped-def]
    people, star, moving_case, make_client, frozen, lead_supervisor
):
    # given the case on a published agenda with an open action item, and on a draft
    published = published_meeting(star, people.star_coordinator, [moving_case])
    draft = schedule(star, people.star_coordinator, NEXT_WEEK.replace(day=18))
    add(draft, moving_case, people.star_coordinator)
    item = action_item_create(
        case_id=moving_case.pk,
        meeting=published,
        description="Synthetic",
        assignee=people.da_member,
        agency=people.da,
        due_at=NEXT_WEEK,
        actor=people.star_coordinator,
    )
    # when the lead supervisor closes the case
    case_services.case_close(case=moving_case, actor=lead_supervisor, reason="Synthetic")
    # then the draft lost it, the published agenda keeps it (not withdrawn: its court did not change)
    assert not AgendaItem.objects.filter(meeting=draft).exists()
    (entry,) = ok(make_client(people.da_member).get(f"/api/v1/mdt/meetings/{published.pk}/agenda/"))["items"]
    assert entry["withdrawn"] is False
    # and the action item is cancelled, saying why, and no longer carried forward
    shown = ok(make_client(people.da_member).get(f"/api/v1/action-items/{item.pk}/"))
    assert shown["status"] == "cancelled" and shown["cancel_reason"] == "case closed"
    assert entry["open_action_items"] == []
