"""Builders for the notifications tests.

The targets of the deadlines (youth, referrals, cases, team members, episodes, participations,
MDT teams, meetings, action items) are made through the services the API uses, so they are
what the product makes. These tests study the deadline engine: every clock they look at is
opened by the test itself through notifications.services (`deadline_open`, …). The services
that make a target also open its own clocks (a meeting its agenda clock, an episode its 24-hour
reports, …); those would stand beside the one under test, so the builders run with the deadline
rules switched off (`_no_clocks`). That the services open the right clocks is pinned by
test_wiring.py and test_clocks_follow_the_facts.py, which use the services directly.

The youth carries distinctive names so tests can prove no email, subject or inbox entry ever
contains them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import time_machine
from django.utils import timezone

from accounts.models import Agency, User
from cases.models import Case, CaseAgency, CaseTeamMember, MissingEpisode, Referral, Youth
from cases.services import cases as case_services
from cases.services import missing_episodes as episode_services
from cases.services import referrals as referral_services
from cases.services import youth as youth_services
from core.permissions import Role
from notifications.models import DeadlineRule
from tests.factories import AgencyFactory, UserFactory

YOUTH_FIRST = "Zephyrinelle"
YOUTH_LAST = "Oakenshieldova"
YOUTH_DOB = dt.date(2010, 2, 11)


@contextlib.contextmanager
def _no_clocks() -> Iterator[None]:
    """The deadline rules switched off while a target is made, back on after (only those that
    were on: a test may have switched one off itself). The rules are reference data a system
    admin edits in the Django admin; no service edits them, so this writes the flag, as the
    tests of rules do (test_deadlines.py)."""
    switched = list(DeadlineRule.objects.filter(is_active=True).values_list("pk", flat=True))
    DeadlineRule.objects.filter(pk__in=switched).update(is_active=False)
    try:
        yield
    finally:
        DeadlineRule.objects.filter(pk__in=switched).update(is_active=True)


@contextlib.contextmanager
def _at(when: dt.datetime | None) -> Iterator[None]:
    """The clock at `when` for the services (nested in the test's own frozen clock, if any)."""
    if when is None:
        yield
        return
    with time_machine.travel(when, tick=False):
        yield


def _supervisor_of(agency: Agency) -> User:
    """A supervisor of `agency` to screen, accept and assign: the test's own (its first active
    one) when it has one, so no stranger joins the escalations."""
    found = User.objects.filter(agency=agency, role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    return found or UserFactory(username=f"nfx_{agency.code.lower()}_supervisor", agency=agency, role=Role.SUPERVISOR)


def _system_admin() -> User:
    found = User.objects.filter(role=Role.SYSTEM_ADMIN, is_active=True).order_by("pk").first()
    return found or UserFactory(username="root", agency=None, role=Role.SYSTEM_ADMIN, is_superuser=True)


def _youth_data(**overrides: Any) -> dict[str, Any]:
    return {"first_name": YOUTH_FIRST, "last_name": YOUTH_LAST, "date_of_birth": YOUTH_DOB, **overrides}


def YouthFactory(*, holding_agency: Agency | None = None, **fields: Any) -> Youth:  # noqa: N802 - the tests' name
    """A youth record created by a worker of `holding_agency` (DCFS)."""
    agency = holding_agency or AgencyFactory(code="DCFS")
    with _no_clocks():
        return youth_services.youth_create(actor=UserFactory(agency=agency), **_youth_data(**fields))


def ReferralFactory(  # noqa: N802 - the tests' name
    *,
    youth: Youth | None = None,
    created_by: User | None = None,
    receiving_agency: Agency | None = None,
    case: Case | None = None,
    received_at: dt.datetime | None = None,
    source: str = Referral.Source.HOTLINE,
    narrative: str = f"{YOUTH_FIRST} was seen near the bus station.",
    **clocks: Any,
) -> Referral:
    """A referral logged by `created_by` (a new DCFS worker) to `receiving_agency` (DCFS), with
    the clock timestamps given (`hotline_reported_at=…`). With `case`, it is for the case's youth
    and the receiving agency's supervisor screens and accepts it, which links it to that case."""
    creator = created_by or UserFactory(agency=AgencyFactory(code="DCFS"))
    receiving = receiving_agency or AgencyFactory(code="DCFS")
    if case is not None:
        youth = case.youth
    with _no_clocks():
        referral = referral_services.referral_create(
            actor=creator,
            youth=youth,
            youth_data=None if youth is not None else _youth_data(),
            receiving_agency=receiving,
            received_at=received_at or timezone.now(),
            source=source,
            narrative=narrative,
            **clocks,
        )
        if case is not None:
            referral = _accept(referral, _supervisor_of(receiving))
    return referral


def _accept(referral: Referral, supervisor: User) -> Referral:
    referral_services.referral_screen(
        referral=referral, actor=supervisor, level="possible_concern", instrument="CSE-IT"
    )
    return referral_services.referral_accept(referral=referral, actor=supervisor)


def case_from(referral: Referral, supervisor: User, *, court: str = Case.Court.STAR) -> Case:
    """The case `referral` opens once the receiving agency's `supervisor` screens and accepts it,
    on `court` (set by the supervisor, as the case page does)."""
    with _no_clocks():
        case = _accept(referral, supervisor).case
        assert case is not None
        if court:
            case = case_services.case_update(case=case, actor=supervisor, data={"court": court})
    case.refresh_from_db()
    return case


def CaseFactory(  # noqa: N802 - the tests' name
    *, lead_agency: Agency | None = None, youth: Youth | None = None, court: str = Case.Court.STAR
) -> Case:
    """An open case led by `lead_agency` (DCFS): one of its workers refers the youth (and so
    joins the case team), its supervisor accepts and sets the court. The number is the one the
    service allocates."""
    lead = lead_agency or AgencyFactory(code="DCFS")
    referral = ReferralFactory(youth=youth, created_by=UserFactory(agency=lead), receiving_agency=lead)
    return case_from(referral, _supervisor_of(lead), court=court)


def team_member(case: Case, user: Any, case_role: str = "social_worker") -> CaseTeamMember:
    """`user` put on the case team by a supervisor of the lead agency (their agency must take part)."""
    with _no_clocks():
        return case_services.case_team_member_add(
            case=case, actor=_supervisor_of(case.lead_agency), user=user, case_role=case_role
        )


def missing_episode(case: Case, *, learned_at: dt.datetime, creator: Any, **fields: Any) -> MissingEpisode:
    """An episode recorded by `creator` (on the case team): missing since six hours before it was learned."""
    with _no_clocks():
        return episode_services.missing_episode_create(
            case=case, actor=creator, missing_since=learned_at - dt.timedelta(hours=6), learned_at=learned_at, **fields
        )


def participation(case: Case, agency: Any, *, granted_at: dt.datetime, by: Any) -> CaseAgency:
    """A WIC 18961.7 share granted by the lead's supervisor `by` at `granted_at` (the clock is
    moved there for the grant). It expires when the service says: 30 days after the report that
    opened the case (SPEC §1)."""
    with _no_clocks(), _at(granted_at):
        return case_services.case_agency_grant(
            case=case, actor=by, agency=agency, legal_basis=CaseAgency.LegalBasis.MDT_18961_7
        )


def mdt_team(code: str = "STAR") -> Any:
    """One of the court MDT teams bootstrap creates (reference data)."""
    from mdt.bootstrap import run
    from mdt.models import MDTTeam

    run()
    return MDTTeam.objects.get(code=code)


def team_membership(team: Any, user: Any, *, coordinator: bool = False) -> Any:
    """`user` put on `team` by a system admin."""
    from mdt.services.teams import team_member_add

    with _no_clocks():
        membership, _ = team_member_add(team=team, user=user, is_coordinator=coordinator, actor=_system_admin())
    return membership


def meeting(team: Any, *, starts_at: dt.datetime, creator: Any) -> Any:
    """A meeting of `team` scheduled by `creator`. A creator who does not coordinate the team
    (the tests of a team left without coordinators) was its coordinator when they scheduled it:
    they are made one for the scheduling and put back as they were after, by a system admin. A
    start already past is scheduled the day before it (the clock moved there)."""
    from mdt.models import TeamMembership
    from mdt.services.meetings import meeting_schedule
    from mdt.services.teams import team_member_add, team_member_remove

    was = TeamMembership.objects.filter(team=team, user=creator).first()
    when = starts_at - dt.timedelta(days=1) if starts_at <= timezone.now() else None
    with _no_clocks(), _at(when):
        if was is None or not was.is_coordinator:
            team_member_add(team=team, user=creator, is_coordinator=True, actor=_system_admin())
        scheduled = meeting_schedule(
            team=team, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), actor=creator
        )[0]
        if was is None:
            team_member_remove(team=team, user_id=creator.pk, actor=_system_admin())
        elif not was.is_coordinator:
            team_member_add(team=team, user=creator, is_coordinator=False, actor=_system_admin())
    return scheduled


def action_item(case: Case, team: Any, *, assignee: Any, due_at: dt.datetime, creator: Any) -> Any:
    """An action item of `team` about `case`, recorded by the team's coordinator `creator` and
    assigned to `assignee` (their agency owns it). The case is put on the team's next meeting's
    agenda first if it is on none (SPEC §4: items are about cases on the team's agendas). An
    assignee on neither the MDT team nor the case team (the tests of an item whose agency takes
    no part in the case) sat on the MDT team when it was assigned: a system admin adds them for
    the assignment and removes them after."""
    from mdt.models import AgendaItem, Meeting, TeamMembership
    from mdt.services.action_items import action_item_create
    from mdt.services.agenda import agenda_item_add
    from mdt.services.teams import team_member_add, team_member_remove

    on_agenda = AgendaItem.objects.filter(meeting__team=team, case=case, withdrawn_at__isnull=True).exists()
    if not on_agenda:
        upcoming = (
            Meeting.objects.filter(team=team, status=Meeting.Status.SCHEDULED, starts_at__gt=timezone.now())
            .order_by("starts_at")
            .first()
        )
        upcoming = upcoming or meeting(team, starts_at=timezone.now() + dt.timedelta(days=7), creator=creator)
        with _no_clocks():
            agenda_item_add(meeting=upcoming, case_id=case.pk, reason=AgendaItem.Reason.PROGRESS_REVIEW, actor=creator)
    outside = not (
        TeamMembership.objects.filter(team=team, user=assignee).exists()
        or CaseTeamMember.objects.filter(case=case, user=assignee, removed_at__isnull=True).exists()
    )
    with _no_clocks():
        if outside:
            team_member_add(team=team, user=assignee, actor=_system_admin())
        item = action_item_create(
            case_id=case.pk,
            description="Synthetic task",
            assignee=assignee,
            agency=assignee.agency,
            due_at=due_at,
            actor=creator,
        )
        if outside:
            team_member_remove(team=team, user_id=assignee.pk, actor=_system_admin())
    return item
