"""Builders for the notifications tests.

Targets (youth, referrals, cases, episodes, participations, meetings, action items) are set-up
rows made straight from the models; every deadline state change goes through
notifications.services. The youth carries distinctive names so tests can prove no email, subject
or inbox entry ever contains them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from cases.models import Case, CaseAgency, CaseTeamMember, MissingEpisode, Referral, Youth
from tests.factories import AgencyFactory, UserFactory

YOUTH_FIRST = "Zephyrinelle"
YOUTH_LAST = "Oakenshieldova"
YOUTH_DOB = dt.date(2010, 2, 11)


class YouthFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Youth

    first_name = YOUTH_FIRST
    last_name = YOUTH_LAST
    date_of_birth = YOUTH_DOB
    holding_agency = factory.LazyFunction(lambda: AgencyFactory(code="DCFS"))
    created_by = factory.LazyAttribute(lambda o: UserFactory(agency=o.holding_agency))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    youth = factory.SubFactory(YouthFactory)
    number = factory.Sequence(lambda n: f"H-2026-{n + 500:06d}")
    lead_agency = factory.LazyFunction(lambda: AgencyFactory(code="DCFS"))
    court = Case.Court.STAR


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    youth = factory.SubFactory(YouthFactory)
    created_by = factory.LazyFunction(lambda: UserFactory(agency=AgencyFactory(code="DCFS")))
    referring_agency = factory.LazyAttribute(lambda o: o.created_by.agency)
    receiving_agency = factory.LazyFunction(lambda: AgencyFactory(code="DCFS"))
    received_at = factory.LazyFunction(timezone.now)
    source = Referral.Source.HOTLINE
    narrative = f"{YOUTH_FIRST} was seen near the bus station."


def team_member(case: Case, user: Any, case_role: str = "social_worker") -> CaseTeamMember:
    return CaseTeamMember.objects.create(case=case, user=user, case_role=case_role, added_by=user)


def missing_episode(case: Case, *, learned_at: dt.datetime, creator: Any, **fields: Any) -> MissingEpisode:
    return MissingEpisode.objects.create(
        case=case, missing_since=learned_at - dt.timedelta(hours=6), learned_at=learned_at, created_by=creator, **fields
    )


def participation(case: Case, agency: Any, *, granted_at: dt.datetime, by: Any) -> CaseAgency:
    return CaseAgency.objects.create(
        case=case,
        agency=agency,
        legal_basis=CaseAgency.LegalBasis.MDT_18961_7,
        granted_by=by,
        granted_at=granted_at,
        expires_at=granted_at + dt.timedelta(days=30),
    )


def mdt_team(code: str = "STAR") -> Any:
    from mdt.models import MDTTeam

    team, _ = MDTTeam.objects.get_or_create(code=code, defaults={"name": f"{code} MDT", "court": code})
    return team


def team_membership(team: Any, user: Any, *, coordinator: bool = False) -> Any:
    from mdt.models import TeamMembership

    return TeamMembership.objects.create(team=team, user=user, is_coordinator=coordinator)


def meeting(team: Any, *, starts_at: dt.datetime, creator: Any) -> Any:
    from mdt.models import Meeting

    return Meeting.objects.create(
        team=team, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), created_by=creator
    )


def action_item(case: Case, team: Any, *, assignee: Any, due_at: dt.datetime, creator: Any) -> Any:
    from mdt.models import ActionItem

    return ActionItem.objects.create(
        case=case,
        team=team,
        description="Synthetic task",
        assignee=assignee,
        agency=assignee.agency,
        due_at=due_at,
        created_by=creator,
    )
