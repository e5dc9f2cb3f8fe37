"""Factories for the MDT tests. Case data (youth, cases, alerts, notes, placements, hearings)
is created straight from cases.models: these tests are about what the MDT app shows of it."""

from __future__ import annotations

import datetime as dt

import factory

from accounts.models import Agency
from cases.models import Case, CourtHearing, Note, Placement, SafetyAlert, Youth
from tests.factories import AgencyFactory, UserFactory

# Distinctive identifying strings: the privacy tests search every MDT output for them.
YOUTH_FIRST_NAME = "Marisolveig"
YOUTH_LAST_NAME = "Quetzalcoatlan"
YOUTH_ALIAS = "Sugarplumfairy"
YOUTH_DOB = dt.date(2010, 5, 17)
NOTE_BODY = "Notebody-confidential-xyzzy"
PLACEMENT_ADDRESS = "1428 Elmstreetwood Lane"
PROTECTED_DETAIL = "Exploiter-Zebediah-Thornquist"


class YouthFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Youth

    first_name = YOUTH_FIRST_NAME
    last_name = factory.Sequence(lambda n: f"{YOUTH_LAST_NAME}{n}")
    date_of_birth = YOUTH_DOB
    aliases = factory.LazyFunction(lambda: [YOUTH_ALIAS])
    holding_agency = factory.LazyFunction(lambda: AgencyFactory(code="DCFS"))
    created_by = factory.LazyAttribute(lambda o: UserFactory(agency=o.holding_agency))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    youth = factory.SubFactory(YouthFactory)
    number = factory.Sequence(lambda n: f"H-2026-{n + 1:06d}")
    lead_agency = factory.LazyFunction(lambda: AgencyFactory(code="PROBATION"))
    court = Case.Court.STAR
    csec_status = Case.CsecStatus.IDENTIFIED


class SafetyAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SafetyAlert

    case = factory.SubFactory(CaseFactory)
    kind = SafetyAlert.Kind.KNOWN_EXPLOITER
    summary = "Known exploiter: do not disclose placement or contact details"
    protected_detail = PROTECTED_DETAIL
    created_by = factory.LazyAttribute(lambda o: o.case.youth.created_by)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    case = factory.SubFactory(CaseFactory)
    author = factory.LazyAttribute(lambda o: o.case.youth.created_by)
    author_agency = factory.LazyAttribute(lambda o: o.author.agency)
    visibility = Note.Visibility.TEAM
    body = NOTE_BODY


class PlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Placement

    case = factory.SubFactory(CaseFactory)
    placement_type = Placement.PlacementType.GROUP_HOME
    csec_specialized = True
    address = PLACEMENT_ADDRESS
    start_date = dt.date(2026, 1, 5)
    created_by = factory.LazyAttribute(lambda o: o.case.youth.created_by)


class CourtHearingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourtHearing

    case = factory.SubFactory(CaseFactory)
    starts_at = factory.LazyFunction(lambda: dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC))
    court = factory.LazyAttribute(lambda o: o.case.court)
    hearing_type = "review"
    created_by = factory.LazyAttribute(lambda o: o.case.youth.created_by)


def agency(code: str, kind: str = Agency.Kind.OTHER) -> Agency:
    return AgencyFactory(code=code, kind=kind)
