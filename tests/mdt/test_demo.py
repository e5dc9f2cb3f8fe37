"""seed_demo's MDT part: idempotent synthetic teams, meetings and agendas."""

from __future__ import annotations

import pytest

from accounts.demo import seed_demo_users
from accounts.services import agencies_bootstrap
from mdt.demo import seed_demo
from mdt.models import AgendaItem, Meeting, TeamMembership
from tests.mdt.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_creates_everything_once(frozen):  # type: ignore[no-untyped-def]
    # given the demo users and a few demo cases of each court
    agencies_bootstrap()
    seed_demo_users()
    star_cases = [CaseFactory(court="STAR") for _ in range(2)]
    CaseFactory(court="DREAM")
    # when it runs twice
    seed_demo()
    counts = (TeamMembership.objects.count(), Meeting.objects.count(), AgendaItem.objects.count())
    seed_demo()
    # then nothing doubled
    assert (TeamMembership.objects.count(), Meeting.objects.count(), AgendaItem.objects.count()) == counts
    assert counts == (7, 8, 3)
    first_star = Meeting.objects.filter(team__code="STAR").order_by("starts_at").first()
    assert first_star.status == "published"
    assert sorted(first_star.items.values_list("case_id", flat=True)) == sorted(c.pk for c in star_cases)
    assert TeamMembership.objects.get(user__username="probation_mdt_member", team__code="STAR").is_coordinator


def test_seed_demo_without_demo_users_does_nothing_harmful(db):  # type: ignore[no-untyped-def]
    assert "0 meeting(s)" in seed_demo()


def test_seed_demo_names_each_teams_coordinators_for_the_printout(frozen):  # type: ignore[no-untyped-def]
    # given the demo users
    agencies_bootstrap()
    seed_demo_users()
    # when the MDT demo data is seeded
    summary = seed_demo()
    # then the printout says who coordinates which team
    assert "STAR MDT coordinator(s): probation_mdt_member" in summary
    assert "DREAM MDT coordinator(s): dcfs_mdt_member" in summary
