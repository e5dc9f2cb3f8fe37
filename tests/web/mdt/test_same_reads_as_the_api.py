"""The MDT pages read through mdt.selectors and leave the API's audit trail: the events a page
writes are those of the matching API reads (as tests/web/test_same_reads_as_the_api.py does for
part 1). And each page's query count is pinned, the same for one row and for many."""

from __future__ import annotations

import datetime as dt

import pytest

from mdt.services.agenda import agenda_item_review
from tests.mdt.factories import CaseFactory, CourtHearingFactory, SafetyAlertFactory
from tests.mdt.support import NEXT_WEEK, published_meeting, schedule
from tests.web.test_same_reads_as_the_api import _events_of

pytestmark = pytest.mark.django_db


def test_my_mdt_audits_as_the_meeting_list(people, star, web, as_user, frozen):
    schedule(star, people.star_coordinator)
    published_meeting(
        star, people.star_coordinator, [CaseFactory(court="STAR")], starts_at=NEXT_WEEK + dt.timedelta(days=7)
    )
    member = people.da_member
    page = _events_of(lambda: web(member).get("/app/mdt/"))
    api = _events_of(lambda: as_user(member).get("/api/v1/mdt/meetings/"))
    assert page == api and page


def test_the_agenda_page_and_pdf_audit_as_the_agenda_api(people, star, web, as_user, frozen):
    cases = [CaseFactory(court="STAR") for _ in range(2)]
    meeting = published_meeting(star, people.star_coordinator, cases)
    member = people.da_member
    page = _events_of(lambda: web(member).get(f"/app/mdt/meetings/{meeting.pk}/"))
    api = _events_of(lambda: as_user(member).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/"))
    assert page == api and len(page) == 3
    pdf = _events_of(lambda: web(member).get(f"/app/mdt/meetings/{meeting.pk}/agenda.pdf"))
    api_pdf = _events_of(lambda: as_user(member).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/?format=pdf"))
    assert pdf == api_pdf
    ics = _events_of(lambda: web(member).get(f"/app/mdt/meetings/{meeting.pk}/calendar.ics"))
    assert ics == _events_of(lambda: as_user(member).get(f"/api/v1/mdt/meetings/{meeting.pk}/calendar.ics"))


def test_the_builder_audits_as_the_items_and_suggestions_apis(people, star, web, as_user, frozen):
    coordinator = people.star_coordinator
    meeting = schedule(star, coordinator)
    suggested = CaseFactory(court="STAR")
    CourtHearingFactory(case=suggested, starts_at=NEXT_WEEK + dt.timedelta(days=2))
    from tests.mdt.support import add

    add(meeting, CaseFactory(court="STAR"), coordinator)
    page = _events_of(lambda: web(coordinator).get(f"/app/mdt/meetings/{meeting.pk}/agenda/"))
    api = _events_of(
        lambda: (
            as_user(coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/items/"),
            as_user(coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/suggestions/"),
        )
    )
    assert page == api


# --- query counts ---------------------------------------------------------------------------------

PINNED = {"my_mdt": 12, "meeting": 16, "builder": 17, "publish": 13, "schedule": 8}


def _rich(people, star, rows):  # type: ignore[no-untyped-def]
    coordinator = people.star_coordinator
    cases = [CaseFactory(court="STAR") for _ in range(rows)]
    for case in cases:
        SafetyAlertFactory(case=case)
        CourtHearingFactory(case=case, starts_at=NEXT_WEEK + dt.timedelta(days=15))
    last = published_meeting(star, coordinator, cases, starts_at=NEXT_WEEK - dt.timedelta(days=7))
    for item in last.items.all():
        agenda_item_review(item=item, summary="ok", actor=coordinator)
    meeting = published_meeting(star, coordinator, cases)
    draft = schedule(star, coordinator, starts_at=NEXT_WEEK + dt.timedelta(days=7))
    from tests.mdt.support import add

    for case in cases:
        add(draft, case, coordinator)
    return meeting, draft


@pytest.mark.parametrize("rows", [1, 4])
def test_query_counts_are_pinned(people, star, web, rows, frozen, django_assert_num_queries):
    meeting, draft = _rich(people, star, rows)
    member, coordinator = web(people.da_member), web(people.star_coordinator)
    for client, path, budget in (
        (member, "/app/mdt/", PINNED["my_mdt"]),
        (member, f"/app/mdt/meetings/{meeting.pk}/", PINNED["meeting"]),
        (coordinator, f"/app/mdt/meetings/{draft.pk}/agenda/", PINNED["builder"]),
        (coordinator, f"/app/mdt/meetings/{draft.pk}/publish/", PINNED["publish"]),
        (coordinator, f"/app/mdt/teams/{star.pk}/schedule/", PINNED["schedule"]),
    ):
        with django_assert_num_queries(budget):
            assert client.get(path).status_code == 200, path
