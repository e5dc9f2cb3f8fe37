"""The seeded world the authorization matrix runs against, built once per test module through
the services (never `.save()` on case data), so visibility, history, audit and deadlines are
exactly what the product makes.

Four partner agencies stand in a ring, DCFS → DMH → SHERIFF → PROBATION → DCFS. Each agency X:

- leads a case K[X] (its case worker referred it and is on the team), shares it with the next
  agency (court_mdt, that agency's case worker on the team), shared it with the one after under
  a consent that has expired (that agency's case worker was put on the team while it ran), and
  never shared it with the last one;
- leads a second case K2[X] that its case worker is not on (a helper worker referred it);
- has pending referrals received by itself, one per decision (screen, accept, decline,
  duplicate, merge), and one it sent to the next agency;
- leads a third case K3[X] (its helper referred it) for whose youth the next agency, and the one
  after it, each accepted a referral of their own: those accepts shared nothing and raised two
  pending share requests (SPEC §1 "Sharing has one door") awaiting X's supervisors (one to
  approve, one to decline, so the audit-completeness run can do both).

Every share is an explicit grant by the lead agency's supervisor: accepting a referral shares
nothing with the referring or the receiving agency.

So for a user of agency X the scopes of the matrix are: `own` = K[X], `agency_case` = K2[X],
`shared` = K[prev X], `expired_share` = K[prev² X], `other_agency` = K[next X] (= K[prev³ X]).
The DCFS-led case also carries a clinical note and an agency-only note written by the DMH
clinician. Every case has a missing episode learned 26 hours ago (its deadlines are overdue:
the sweep has reminded the lead agency's worker and escalated to its supervisor).

Court MDT: STAR (a Probation coordinator, a Sheriff MDT member and the DMH clinician) meets about
the Probation- and DMH-led cases; DREAM (a DCFS coordinator, in no matrix role) about the DCFS-led
one. STAR has a published meeting with two agenda items and an action item assigned to the DMH
clinician, plus one meeting per lifecycle step (scheduled, published, held, to cancel). A DCFS
MDT member sits on no team at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import Agency, User
from accounts.services import agencies_bootstrap
from cases.models import Case, CaseTeamMember, Note, Referral, ShareRequest
from cases.services import cases as case_services
from cases.services import court_hearings as hearing_services
from cases.services import missing_episodes as episode_services
from cases.services import notes as note_services
from cases.services import placements as placement_services
from cases.services import safety_alerts as alert_services
from cases.services import service_referrals as service_referral_services
from core.permissions import Role
from mdt.models import ActionItem, AgendaItem, MDTTeam, Meeting
from mdt.services.action_items import action_item_create
from mdt.services.agenda import agenda_item_add
from mdt.services.calendar_feeds import calendar_feed_rotate
from mdt.services.meetings import meeting_hold, meeting_publish, meeting_schedule
from mdt.services.teams import team_member_add
from notifications.models import Deadline, Notification
from notifications.services.sweep import deadlines_sweep
from tests.cases.factories import accept_referral, create_referral
from tests.factories import UserFactory

RING = ["DCFS", "DMH", "SHERIFF", "PROBATION"]
COURTS = {"PROBATION": "STAR", "DMH": "STAR", "SHERIFF": "STAR", "DCFS": "DREAM"}
DECISIONS = ["screen", "accept", "decline", "duplicate", "merge"]


def ring(code: str, step: int = 1) -> str:
    return RING[(RING.index(code) + step) % len(RING)]


@dataclass
class World:
    now: dt.datetime
    users: dict[str, User] = field(default_factory=dict)  # by username
    tokens: dict[str, str] = field(default_factory=dict)  # by username
    case: dict[str, Case] = field(default_factory=dict)  # K[X]
    case2: dict[str, Case] = field(default_factory=dict)  # K2[X]
    case3: dict[str, Case] = field(default_factory=dict)  # K3[X]
    share_request: dict[str, ShareRequest] = field(default_factory=dict)  # on K3[X], by the next agency
    share_request2: dict[str, ShareRequest] = field(default_factory=dict)  # on K3[X], by the one after
    case_referral: dict[int, Referral] = field(default_factory=dict)  # by case id
    pending: dict[tuple[str, str], Referral] = field(default_factory=dict)  # (X, decision)
    sent: dict[str, Referral] = field(default_factory=dict)  # S[X]: X's worker → next agency
    team_note: dict[int, Note] = field(default_factory=dict)  # by case id
    episode: dict[int, Any] = field(default_factory=dict)  # by case id
    # One placement, service, hearing and alert per case (SPEC §6 "case parts"), by case id.
    placement: dict[int, Any] = field(default_factory=dict)
    service: dict[int, Any] = field(default_factory=dict)
    hearing: dict[int, Any] = field(default_factory=dict)
    alert: dict[int, Any] = field(default_factory=dict)
    clinical_service: Any = None  # a mental-health service on K[DCFS], by the DMH clinician
    deadline: dict[int, Deadline] = field(default_factory=dict)  # by case id
    clinical_note: Note | None = None
    agency_note: Note | None = None
    teams: dict[str, MDTTeam] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)  # "STAR", "STAR_scheduled", …, "DREAM"
    items: dict[str, AgendaItem] = field(default_factory=dict)
    actions: dict[str, ActionItem] = field(default_factory=dict)
    feed_token: str = ""
    names_cache: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def user(self, username: str) -> User:
        return self.users[username]


def _user(world: World, username: str, role: str, agency: Agency | None, **extra: Any) -> User:
    user = UserFactory(username=username, role=role, agency=agency, first_name="Matrix", last_name=username, **extra)
    world.users[username] = user
    return user


def build_world() -> World:
    """Everything the matrix rows name. Runs inside the caller's transaction."""
    from importlib import import_module

    now = timezone.now()
    world = World(now=now)
    agencies_bootstrap()
    for app in ("cases", "notifications", "mdt"):
        import_module(f"{app}.bootstrap").run()
    agencies = {a.code: a for a in Agency.objects.filter(code__in=RING)}

    # --- people ---------------------------------------------------------------------------------
    for code in RING:
        agency, low = agencies[code], code.lower()
        _user(world, f"{low}_case_worker", Role.CASE_WORKER, agency)
        _user(world, f"{low}_supervisor", Role.SUPERVISOR, agency)
        _user(world, f"{low}_helper", Role.CASE_WORKER, agency)  # refers K2[X]; in no matrix role
        _user(world, f"{low}_clerk", Role.CASE_WORKER, agency)  # the target of user management
        _user(world, f"{low}_auditor", Role.AUDITOR, agency)
    _user(world, "star_coordinator", Role.MDT_MEMBER, agencies["PROBATION"])
    _user(world, "star_member", Role.MDT_MEMBER, agencies["SHERIFF"])
    _user(world, "dream_coordinator", Role.MDT_MEMBER, agencies["DCFS"])
    _user(world, "dcfs_mdt_member", Role.MDT_MEMBER, agencies["DCFS"])  # on no MDT team
    _user(world, "dcfs_agency_admin", Role.AGENCY_ADMIN, agencies["DCFS"])
    _user(world, "dcfs_analyst", Role.ANALYST, agencies["DCFS"])
    _user(world, "root", Role.SYSTEM_ADMIN, None, is_superuser=True)
    u = world.user

    # --- cases ----------------------------------------------------------------------------------
    for i, code in enumerate(RING):
        low = code.lower()
        supervisor = u(f"{low}_supervisor")
        referral = create_referral(
            u(f"{low}_case_worker"), receiving_agency=agencies[code], youth_data=_person(f"K{i}")
        )
        case = accept_referral(referral, supervisor, level="possible_concern")
        world.case[code], world.case_referral[case.pk] = case, referral
        # court_mdt sharing exists only while the case has a court: the court comes first.
        case_services.case_update(case=case, actor=supervisor, data={"court": COURTS[code]})
        case_services.case_agency_grant(
            case=case, actor=supervisor, agency=agencies[ring(code)], legal_basis="court_mdt"
        )
        case_services.case_team_member_add(
            case=case, actor=supervisor, user=u(f"{ring(code).lower()}_case_worker"), case_role="partner"
        )
        referral = create_referral(u(f"{low}_helper"), receiving_agency=agencies[code], youth_data=_person(f"L{i}"))
        case2 = accept_referral(referral, supervisor, level="possible_concern")
        world.case2[code], world.case_referral[case2.pk] = case2, referral
        case_services.case_agency_grant(
            case=case2,
            actor=supervisor,
            agency=agencies[ring(code)],
            legal_basis="consent",
            expires_at=now + dt.timedelta(days=365),
        )
        for kind in DECISIONS:
            world.pending[(code, kind)] = create_referral(
                u(f"{low}_case_worker"), receiving_agency=agencies[code], youth_data=_person(f"P{i}{kind}")
            )
        world.sent[code] = create_referral(
            u(f"{low}_case_worker"), receiving_agency=agencies[ring(code)], youth_data=_person(f"S{i}")
        )
    # The consent that has run out: granted ten days ago for one day, with that agency's worker
    # on the team while it ran. No job ends it: access stops when expires_at passes.
    with time_machine.travel(now - dt.timedelta(days=10), tick=False):
        for code in RING:
            case, supervisor, expired = world.case[code], u(f"{code.lower()}_supervisor"), ring(code, 2)
            case_services.case_agency_grant(
                case=case,
                actor=supervisor,
                agency=agencies[expired],
                legal_basis="consent",
                expires_at=timezone.now() + dt.timedelta(days=1),
            )
            case_services.case_team_member_add(
                case=case, actor=supervisor, user=u(f"{expired.lower()}_case_worker"), case_role="partner"
            )

    # --- parts of the cases ---------------------------------------------------------------------
    for code in RING:
        low = code.lower()
        for case, author in ((world.case[code], u(f"{low}_case_worker")), (world.case2[code], u(f"{low}_helper"))):
            world.team_note[case.pk] = note_services.case_note_add(
                case=case, actor=author, body="Synthetic team note.", visibility=Note.Visibility.TEAM
            )
            world.episode[case.pk] = episode_services.missing_episode_create(
                case=case,
                actor=author,
                missing_since=now - dt.timedelta(hours=30),
                learned_at=now - dt.timedelta(hours=26),
            )
            world.deadline[case.pk] = Deadline.objects.filter(case_id=case.pk).order_by("id").first()
            world.placement[case.pk] = placement_services.placement_create(
                case=case, actor=author, placement_type="shelter", start_date=dt.date(2026, 1, 1)
            )
            world.service[case.pk] = service_referral_services.service_referral_create(
                case=case, actor=author, provider="Synthetic advocates", kind="advocacy", referred_at=now
            )
            # Far enough ahead to be outside every meeting's 14-day suggestion window (SPEC §4).
            world.hearing[case.pk] = hearing_services.court_hearing_create(
                case=case, actor=author, starts_at=now + dt.timedelta(days=60), hearing_type="review"
            )
            world.alert[case.pk] = alert_services.safety_alert_create(
                case=case, actor=author, kind="safety_risk", summary="Synthetic alert"
            )
    dcfs_case, clinician = world.case["DCFS"], u("dmh_case_worker")
    world.clinical_note = note_services.case_note_add(
        case=dcfs_case, actor=clinician, body="Synthetic clinical note.", visibility=Note.Visibility.CLINICAL
    )
    world.agency_note = note_services.case_note_add(
        case=dcfs_case, actor=clinician, body="Synthetic DMH note.", visibility=Note.Visibility.AGENCY
    )
    world.clinical_service = service_referral_services.service_referral_create(
        case=dcfs_case, actor=clinician, provider="Synthetic clinic", kind="mental_health", referred_at=now
    )
    hearing_services.court_hearing_create(
        case=world.case["SHERIFF"],
        actor=u("sheriff_supervisor"),
        starts_at=now + dt.timedelta(days=5),
        hearing_type="review",
    )
    # The overdue missing-episode reminders: the lead agency's worker and, escalated, its supervisor.
    deadlines_sweep(now=now, redeliver=False)

    # --- share requests (after the sweep: each notifies the lead agency's supervisor) -----------
    for i, code in enumerate(RING):
        low = code.lower()
        referral = create_referral(u(f"{low}_helper"), receiving_agency=agencies[code], youth_data=_person(f"Q{i}"))
        case3 = accept_referral(referral, u(f"{low}_supervisor"), level="possible_concern")
        world.case3[code], world.case_referral[case3.pk] = case3, referral
        for step, requests in ((1, world.share_request), (2, world.share_request2)):
            asking = ring(code, step)
            again = create_referral(u(f"{asking.lower()}_helper"), youth=case3.youth, receiving_agency=agencies[asking])
            accept_referral(again, u(f"{asking.lower()}_supervisor"), level="possible_concern")
            requests[code] = ShareRequest.objects.select_related("case").get(case=case3, agency=agencies[asking])

    # --- court MDT ------------------------------------------------------------------------------
    root = u("root")
    world.teams = {t.code: t for t in MDTTeam.objects.all()}
    star, dream = world.teams["STAR"], world.teams["DREAM"]
    team_member_add(team=star, user=u("star_coordinator"), is_coordinator=True, actor=root)
    team_member_add(team=star, user=u("star_member"), actor=root)
    team_member_add(team=star, user=clinician, actor=root)
    team_member_add(team=dream, user=u("dream_coordinator"), is_coordinator=True, actor=root)

    def schedule(team: MDTTeam, coordinator: User, days: int) -> Meeting:
        start = (now + dt.timedelta(days=days)).replace(microsecond=0)
        return meeting_schedule(
            team=team, starts_at=start, ends_at=start + dt.timedelta(hours=2), location="Courthouse", actor=coordinator
        )[0]

    coord, dream_coord = u("star_coordinator"), u("dream_coordinator")
    meeting = schedule(star, coord, 7)
    world.items["STAR"] = agenda_item_add(
        meeting=meeting, case_id=world.case["PROBATION"].pk, reason="progress_review", actor=coord
    )
    world.items["STAR_second"] = agenda_item_add(
        meeting=meeting, case_id=world.case["DMH"].pk, reason="progress_review", actor=coord
    )
    world.meetings["STAR"] = meeting_publish(meeting=meeting, actor=coord)
    world.actions["STAR"] = action_item_create(
        case_id=world.case["PROBATION"].pk,
        meeting=meeting,
        description="Synthetic task",
        assignee=clinician,
        agency=agencies["DMH"],
        due_at=now + dt.timedelta(days=5),
        actor=coord,
    )
    world.meetings["STAR_scheduled"] = schedule(star, coord, 14)
    world.meetings["STAR_published"] = meeting_publish(meeting=schedule(star, coord, 21), actor=coord)
    held = meeting_publish(meeting=schedule(star, coord, 28), actor=coord)
    world.meetings["STAR_held"] = meeting_hold(meeting=held, actor=coord)
    world.meetings["STAR_cancel"] = schedule(star, coord, 35)

    other = schedule(dream, dream_coord, 8)
    world.items["DREAM"] = agenda_item_add(
        meeting=other, case_id=dcfs_case.pk, reason="progress_review", actor=dream_coord
    )
    world.meetings["DREAM"] = meeting_publish(meeting=other, actor=dream_coord)
    world.actions["DREAM"] = action_item_create(
        case_id=dcfs_case.pk,
        meeting=other,
        description="Synthetic task",
        assignee=dream_coord,
        agency=agencies["DCFS"],
        due_at=now + dt.timedelta(days=5),
        actor=dream_coord,
    )
    _, world.feed_token = calendar_feed_rotate(actor=dream_coord)

    # --- a live token per person ----------------------------------------------------------------
    for username, user in world.users.items():
        world.tokens[username] = AuthToken.objects.create(user=user)[1]
    return world


def _person(tag: str) -> dict[str, Any]:
    """A synthetic youth, distinct enough that no two of the world are possible duplicates."""
    letters = "".join(chr(ord("a") + (ord(c) % 26)) for c in tag)
    return {
        "first_name": f"Matrix{letters}",
        "last_name": f"Seeded{letters[::-1]}",
        "date_of_birth": dt.date(2009, 1 + len(tag) % 12, 1 + sum(map(ord, tag)) % 28),
        "aliases": [],
    }


def membership(case: Case, username: str, world: World) -> CaseTeamMember:
    return CaseTeamMember.objects.get(case=case, user=world.user(username), removed_at__isnull=True)


def notification_of(username: str, world: World) -> int | None:
    return (
        Notification.objects.filter(recipient=world.user(username)).order_by("id").values_list("id", flat=True).first()
    )
