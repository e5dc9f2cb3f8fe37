"""Every read of MDT data, scoped to the user (SPEC §1, §4). The one place MDT visibility is
decided: APIs, exports, the PDF, calendar feeds and other apps read through these.

- Teams are reference data: every authenticated user may list them.
- A meeting is visible to the active members of its team who may sit on a team (MDT members,
  case workers, supervisors — never admins or auditors). Anyone else gets 404.
- An agenda (its items and the agenda view of each case) is visible to the team's coordinators
  from the start and to the other members once it has been published: a draft agenda is not
  yet shared.
- An action item is visible to the members of its team who may see its case on an agenda,
  and to its assignee.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, Min, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from cases.models import Case, CourtHearing, SafetyAlert

from .models import (
    ActionItem,
    AgendaItem,
    Attendance,
    CalendarFeed,
    MDTTeam,
    Meeting,
    ReviewVersion,
    TeamMembership,
)
from .permissions import TEAM_ROLES, may_sit_on_team

PACIFIC = ZoneInfo("America/Los_Angeles")
#: A case with a court hearing this close is suggested for the next meeting's agenda.
SUGGESTION_WINDOW = dt.timedelta(days=14)


# --- teams and membership -------------------------------------------------------------------------


def team_list(*, user: Any) -> QuerySet[MDTTeam]:
    return MDTTeam.objects.order_by("code")


def team_get(*, user: Any, pk: int) -> MDTTeam:
    try:
        return team_list(user=user).get(pk=pk)
    except MDTTeam.DoesNotExist as exc:
        raise Http404 from exc


def _active_member_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True, is_superuser=False, role__in=TEAM_ROLES, agency__isnull=False)


def team_members(*, team: MDTTeam | None = None, team_id: int | None = None) -> QuerySet[User]:
    """The active users on the team (coordinators included): who a published agenda goes to.
    For notifications/: pass the team or its id."""
    team_id = team.pk if team is not None else team_id
    return _active_member_users().filter(mdt_memberships__team_id=team_id).select_related("agency").order_by("id")


def team_coordinators(*, team: MDTTeam | None = None, team_id: int | None = None) -> QuerySet[User]:
    """The active coordinators of the team: who meeting deadlines remind."""
    team_id = team.pk if team is not None else team_id
    return (
        _active_member_users()
        .filter(mdt_memberships__team_id=team_id, mdt_memberships__is_coordinator=True)
        .select_related("agency")
        .order_by("id")
    )


def coordinators_by_team(*, team_ids: Iterable[int]) -> dict[int, list[User]]:
    """{team_id: [active coordinators, by id]} for several teams in one query — the same rule as
    team_coordinators (the sweep reminds a whole batch of meeting deadlines at once)."""
    rows = (
        _active_member_users()
        .filter(mdt_memberships__team_id__in=list(team_ids), mdt_memberships__is_coordinator=True)
        .annotate(coordinated_team_id=F("mdt_memberships__team_id"))
        .only("id", "email", "is_active", "agency_id", "role")
        .order_by("id")
    )
    found: dict[int, list[User]] = {}
    for user in rows:
        found.setdefault(user.coordinated_team_id, []).append(user)
    return found


def team_membership_list(*, user: Any, team: MDTTeam) -> QuerySet[TeamMembership]:
    """A system admin reads every team's roster, a member their own team's; anyone else may see
    the team (teams are reference data) but not who is on it (403)."""
    from core.errors import ApplicationError
    from core.permissions import is_system_admin

    if not (is_system_admin(user) or is_team_member(user=user, team=team)):
        raise ApplicationError("Only the team's members and system admins read its roster.", code="forbidden")
    return TeamMembership.objects.filter(team=team).select_related("user", "user__agency").order_by("id")


def member_team_ids(*, user: Any) -> QuerySet[Any, Mapping[str, object]]:
    """Ids of the teams the user sits on (a subquery; empty for roles that never sit on one)."""
    if not may_sit_on_team(user):
        return MDTTeam.objects.none().values("id")
    return TeamMembership.objects.filter(user=user).values("team_id")


def coordinator_team_ids(*, user: Any) -> QuerySet[Any, Mapping[str, object]]:
    if not may_sit_on_team(user):
        return MDTTeam.objects.none().values("id")
    return TeamMembership.objects.filter(user=user, is_coordinator=True).values("team_id")


def coordinated_team_sets(*, users: list[Any]) -> dict[int, frozenset[int]]:
    """{user id: the teams they coordinate} for several people in one query, by the rule of
    `coordinator_team_ids` (what an MDT deadline's visibility reads of a person)."""
    seated = [u.pk for u in users if may_sit_on_team(u)]
    teams: dict[int, set[int]] = {pk: set() for pk in seated}
    rows = TeamMembership.objects.filter(user_id__in=seated, is_coordinator=True).values_list("user_id", "team_id")
    for user_id, team_id in rows if seated else ():
        teams[user_id].add(team_id)
    return {u.pk: frozenset(teams.get(u.pk, ())) for u in users}


def is_team_member(*, user: Any, team: MDTTeam) -> bool:
    return may_sit_on_team(user) and TeamMembership.objects.filter(user=user, team=team).exists()


def is_coordinator(*, user: Any, team: MDTTeam | int) -> bool:
    team_id = team if isinstance(team, int) else team.pk
    return (
        may_sit_on_team(user)
        and TeamMembership.objects.filter(user=user, team_id=team_id, is_coordinator=True).exists()
    )


def membership_flags(*, user: Any) -> dict[int, bool]:
    """{team_id: is_coordinator} for the user's teams, in one query."""
    if not may_sit_on_team(user):
        return {}
    return dict(TeamMembership.objects.filter(user=user).values_list("team_id", "is_coordinator"))


# --- meetings -------------------------------------------------------------------------------------


def meeting_list_visible_to(*, user: Any) -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(team_id__in=member_team_ids(user=user))
        .select_related("team")
        .order_by("starts_at", "id")
    )


def meeting_get_visible(*, user: Any, pk: int) -> Meeting:
    try:
        return meeting_list_visible_to(user=user).get(pk=pk)
    except Meeting.DoesNotExist as exc:
        raise Http404 from exc


def agenda_shared_with(*, user: Any, meeting: Meeting) -> bool:
    """A draft agenda is for the coordinators; once published, for the whole team."""
    return meeting.published_at is not None or is_coordinator(user=user, team=meeting.team_id)


def agenda_item_list_visible_to(*, user: Any) -> QuerySet[AgendaItem]:
    return AgendaItem.objects.filter(
        Q(meeting__team_id__in=coordinator_team_ids(user=user))
        | Q(meeting__team_id__in=member_team_ids(user=user), meeting__published_at__isnull=False)
    )


def agenda_item_get_visible(*, user: Any, pk: int) -> AgendaItem:
    try:
        return agenda_item_list_visible_to(user=user).select_related("meeting", "meeting__team", "case").get(pk=pk)
    except AgendaItem.DoesNotExist as exc:
        raise Http404 from exc


def agenda_case_ids_visible_to(*, user: Any) -> QuerySet[Any, Mapping[str, object]]:
    """Ids of the cases on the agendas the user may read (a subquery). For cases/: what an MDT
    member may see of a case is its agenda view, and only for these cases. A withdrawn item
    (the case left the team's court) gives no sight of its case."""
    return agenda_item_list_visible_to(user=user).filter(withdrawn_at__isnull=True).values("case_id")


def meeting_items(*, meeting: Meeting) -> QuerySet[AgendaItem]:
    """The items of a meeting the caller may already see (check `agenda_shared_with` first)."""
    return (
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("case", "presenting_agency", "reviewed_by")
        .prefetch_related(review_versions_prefetch())
        .order_by("position", "id")
    )


def review_versions_prefetch() -> Prefetch[str, QuerySet[ReviewVersion]]:
    """Every recorded version of the items' review outcomes, newest first (one query)."""
    return Prefetch("review_versions", queryset=ReviewVersion.objects.order_by("-version"))


def may_attend(*, user: Any, meeting: Meeting) -> bool:
    """SPEC §4: attendance is recorded for the team's members and the people presenting an item
    of this meeting. An agenda item records its presenter as an agency (`presenting_agency`), so
    a person presents an item when they belong to that agency and may see the item's case
    (cases.selectors.visibility decides: its case team, or its agency's supervisors while the agency leads
    or participates). Nobody else: marking a person puts their name on the team's records."""
    from cases.selectors.visibility import case_ids_visible_to

    if user is None or not user.is_active or not user.agency_id:
        return False
    if is_team_member(user=user, team=meeting.team):
        return True
    return AgendaItem.objects.filter(
        meeting=meeting, presenting_agency_id=user.agency_id, case_id__in=case_ids_visible_to(user=user)
    ).exists()


def meeting_attendance(*, meeting: Meeting) -> QuerySet[Attendance]:
    return Attendance.objects.filter(meeting=meeting).select_related("user", "agency").order_by("id")


# --- the agenda view ------------------------------------------------------------------------------


def youth_initials(first_name: str, last_name: str) -> str:
    return "".join(part.strip()[:1].upper() for part in (first_name or "", last_name or "") if part.strip())


def age_on(date_of_birth: dt.date | None, on: dt.date) -> int | None:
    if not date_of_birth:
        return None
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def agenda_view(*, user: Any, meeting: Meeting) -> list[dict[str, Any]]:
    """The agenda view of every case on the meeting's agenda (SPEC §4), in agenda order:
    case number, youth initials and age, lead agency, csec_status, safety alerts (summary only),
    open deadlines, every open action item carried forward, the last review outcome — and
    nothing else. A fixed number of queries whatever the number of items.

    An item withdrawn from a published agenda (its case left the team's court, SPEC §4) keeps
    its place and shows as withdrawn: its number and position, without its agenda view.

    The caller has checked `agenda_shared_with(user=, meeting=)`.
    """
    items = list(
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("case", "case__youth", "case__lead_agency", "presenting_agency", "reviewed_by")
        .prefetch_related(_active_alerts_prefetch("case__alerts"))
        .order_by("position", "id")
    )
    live = [item for item in items if item.withdrawn_at is None]
    views = iter(
        case_agenda_views(
            cases=[item.case for item in live], team_id=meeting.team_id, as_of=meeting.starts_at, meeting=meeting
        )
    )
    return [
        _withdrawn_entry(item)
        if item.withdrawn_at is not None
        else {
            "item": item.pk,
            "position": item.position,
            "reason": item.reason,
            "presenting_agency": item.presenting_agency.code if item.presenting_agency is not None else None,
            "minutes_allotted": item.minutes_allotted,
            **next(views),
        }
        for item in items
    ]


def _active_alerts_prefetch(lookup: str) -> Prefetch[str, QuerySet[SafetyAlert]]:
    return Prefetch(
        lookup,
        queryset=SafetyAlert.objects.filter(is_active=True).only("id", "case_id", "kind", "summary").order_by("-id"),
        to_attr="active_alerts",
    )


def case_agenda_views(
    *, cases: list[Case], team_id: int, as_of: dt.datetime, meeting: Meeting | None = None
) -> list[dict[str, Any]]:
    """The agenda view (SPEC §4) of each case, in the order given, as the team sees it at `as_of`
    (a meeting's start, or now): open action items of the team recorded up to then, the last
    review at the team's meetings up to then, open deadlines. The cases come with their youth,
    lead agency and `active_alerts` loaded. A fixed number of queries whatever their number."""
    from notifications.selectors import open_deadlines_for_cases

    case_ids = [case.pk for case in cases]
    if not case_ids:
        return []

    # Open action items of this team, from this meeting and the ones before it (or recorded
    # between meetings), until done or cancelled.
    open_actions: dict[int, list[ActionItem]] = defaultdict(list)
    for action in (
        ActionItem.objects.filter(case_id__in=case_ids, team_id=team_id, status=ActionItem.Status.OPEN)
        .filter(Q(meeting__isnull=True) | Q(meeting__starts_at__lte=as_of))
        .select_related("assignee", "agency")
        .order_by("due_at", "id")
    ):
        open_actions[action.case_id].append(action)

    # The last review outcome of each case at this team's meetings up to this one.
    last_review: dict[int, AgendaItem] = {}
    for reviewed in (
        AgendaItem.objects.filter(
            case_id__in=case_ids,
            meeting__team_id=team_id,
            meeting__starts_at__lte=as_of,
            reviewed_at__isnull=False,
        )
        .select_related("meeting")
        .only("id", "case_id", "meeting__id", "meeting__starts_at", "review_summary", "review_decisions", "reviewed_at")
        .order_by("case_id", "-meeting__starts_at", "-reviewed_at")
    ):
        last_review.setdefault(reviewed.case_id, reviewed)

    deadlines = open_deadlines_for_cases(case_ids=case_ids) or {}
    on = as_of.astimezone(PACIFIC).date()

    view = []
    for case in cases:
        youth = case.youth
        review = last_review.get(case.pk)
        view.append(
            {
                "case": case.pk,
                "youth_id": youth.pk,  # for the audit log; never serialised
                "case_number": case.number,
                "youth_initials": youth_initials(youth.first_name, youth.last_name),
                # cases.crypto.EncryptedDateField derives from TextField, so the plugin types the
                # date of birth str; it holds a date. (unused-ignore: for when that field says so.)
                "youth_age": age_on(youth.date_of_birth, on),  # type: ignore[arg-type, unused-ignore]
                "lead_agency": case.lead_agency.code,
                "csec_status": case.csec_status,
                # active_alerts: set by _active_alerts_prefetch's to_attr, which the Case type cannot know.
                "safety_alerts": [{"kind": a.kind, "summary": a.summary} for a in case.active_alerts],  # type: ignore[attr-defined]
                "open_deadlines": [
                    {
                        "rule": d.get("rule"),
                        "label": d.get("label", ""),
                        "due_at": d.get("due_at"),
                        "status": d.get("status", "open"),
                    }
                    for d in deadlines.get(case.pk, [])
                ],
                "open_action_items": [
                    {
                        "id": a.pk,
                        "description": a.description,
                        "agency": a.agency.code,
                        "assignee": a.assignee_id,
                        "assignee_name": a.assignee.get_full_name() if a.assignee is not None else "",
                        "due_at": a.due_at,
                        "status": a.status,
                        "meeting": a.meeting_id,
                    }
                    for a in open_actions.get(case.pk, [])
                ],
                "last_review": (
                    {
                        "meeting": review.meeting_id,
                        "meeting_starts_at": review.meeting.starts_at,
                        "summary": review.review_summary,
                        "decisions": review.review_decisions,
                        "reviewed_at": review.reviewed_at,
                    }
                    if review
                    else None
                ),
                "withdrawn": False,
                "withdrawn_at": None,
            }
        )
    return view


def _withdrawn_entry(item: AgendaItem) -> dict[str, Any]:
    """A withdrawn item: where it was on the agenda and which case number, nothing of the case."""
    return {
        "item": item.pk,
        "position": item.position,
        "reason": item.reason,
        "presenting_agency": item.presenting_agency.code if item.presenting_agency is not None else None,
        "minutes_allotted": item.minutes_allotted,
        "case": item.case_id,
        "youth_id": None,  # no agenda view is shown, so none is audited
        "case_number": item.case.number,
        "youth_initials": "",
        "youth_age": None,
        "lead_agency": None,
        "csec_status": None,
        "safety_alerts": [],
        "open_deadlines": [],
        "open_action_items": [],
        "last_review": None,
        "withdrawn": True,
        "withdrawn_at": item.withdrawn_at,
    }


# --- finding cases for an agenda ------------------------------------------------------------------

#: The shortest case-number search: a few characters of H-2026-000123 would list half the court.
ELIGIBLE_SEARCH_MIN = 4
#: At most this many matches: a lookup to pick a case, not a listing of the court's cases.
ELIGIBLE_SEARCH_LIMIT = 20


def eligible_cases(*, user: Any, team: MDTTeam, number: str) -> list[Case]:
    """SPEC §4: the open cases of the team's court whose number contains `number` (case
    insensitive), for the team's coordinators (the caller checks), best match first: the exact
    number, then by number. At most ELIGIBLE_SEARCH_LIMIT; what is shown of them is the agenda
    view (case_agenda_views)."""
    needle = number.strip().upper()
    qs = (
        Case.objects.filter(court=team.court, status=Case.Status.OPEN, number__icontains=needle)
        .select_related("youth", "lead_agency")
        .prefetch_related(_active_alerts_prefetch("alerts"))
        .order_by("number", "id")
    )
    found = list(qs[:ELIGIBLE_SEARCH_LIMIT])
    found.sort(key=lambda case: case.number.upper() != needle)  # the exact number first (stable)
    return found


# --- suggestions ----------------------------------------------------------------------------------


def meeting_suggestions(*, user: Any, meeting: Meeting) -> QuerySet[Case]:
    """SPEC §4: open cases of the team's court (and only of its court) with a court hearing in
    the 14 days after the meeting starts — counted from the meeting, not from today: a meeting
    weeks ahead gets the hearings that follow it — that are not on this meeting's agenda yet,
    soonest hearing first. For coordinators (the caller checks)."""
    start, end = meeting.starts_at, meeting.starts_at + SUGGESTION_WINDOW
    window = Q(hearings__starts_at__gte=start, hearings__starts_at__lt=end)
    return (
        Case.objects.filter(court=meeting.team.court, status=Case.Status.OPEN)
        .filter(Exists(CourtHearing.objects.filter(case=OuterRef("pk"), starts_at__gte=start, starts_at__lt=end)))
        .exclude(Exists(AgendaItem.objects.filter(meeting=meeting, case=OuterRef("pk"))))
        .annotate(next_hearing_at=Min("hearings__starts_at", filter=window))
        .select_related("lead_agency")
        .order_by("next_hearing_at", "id")
    )


# --- action items ---------------------------------------------------------------------------------


def action_item_list_visible_to(*, user: Any) -> QuerySet[ActionItem]:
    if not may_sit_on_team(user):
        return ActionItem.objects.none()
    return (
        ActionItem.objects.filter(
            Q(team_id__in=member_team_ids(user=user), case_id__in=agenda_case_ids_visible_to(user=user))
            | Q(assignee=user)
        )
        .select_related("case", "agency", "assignee", "team")
        .order_by("due_at", "id")
    )


def action_item_get_visible(*, user: Any, pk: int) -> ActionItem:
    try:
        return action_item_list_visible_to(user=user).get(pk=pk)
    except ActionItem.DoesNotExist as exc:
        raise Http404 from exc


# --- calendar feeds -------------------------------------------------------------------------------


def calendar_feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_get(*, user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_by_token(*, token: str) -> CalendarFeed:
    """The active feed of an active user for this secret, or 404."""
    try:
        return CalendarFeed.objects.select_related("user", "user__agency").get(
            token_hash=calendar_feed_token_hash(token), revoked_at__isnull=True, user__is_active=True
        )
    except CalendarFeed.DoesNotExist as exc:
        raise Http404 from exc


#: How far back a calendar feed reaches.
FEED_HISTORY = dt.timedelta(days=90)


def calendar_feed_meetings(*, user: Any, now: dt.datetime | None = None) -> QuerySet[Meeting]:
    now = now or timezone.now()
    return meeting_list_visible_to(user=user).filter(starts_at__gte=now - FEED_HISTORY)


# --- the printed agenda ---------------------------------------------------------------------------


def sharing_renewals_for_cases(*, case_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """{case_id: [{"agency": code, "expires_at": datetime}, …]} for the active WIC 18961.7
    participations of those cases (one query): the sharing each case's renewal deadline is about,
    by agency (the deadline row itself names only its rule). For the printed agenda."""
    from cases.models import CaseAgency

    ids = list(case_ids)
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = (
        CaseAgency.objects.filter(
            case_id__in=ids, legal_basis=CaseAgency.LegalBasis.MDT_18961_7, revoked_at__isnull=True
        )
        .values("case_id", "agency__code", "expires_at")
        .order_by("expires_at", "agency__code")
    )
    for row in rows:
        found[row["case_id"]].append({"agency": row["agency__code"], "expires_at": row["expires_at"]})
    return found


def attendance_sheet(*, meeting: Meeting, view: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who the printed attendance sheet lists, in order: the team's active members (coordinators
    first), then the people already recorded as attending who are not on the team (presenters),
    then one blank line for each presenting agency with nobody recorded for it yet. Names and
    agencies only; two queries."""
    members = list(
        team_members(team_id=meeting.team_id).annotate(
            sheet_coordinator=Exists(
                TeamMembership.objects.filter(team_id=meeting.team_id, user_id=OuterRef("pk"), is_coordinator=True)
            )
        )
    )
    member_ids = {m.pk for m in members}
    rows = [
        {
            "name": m.get_full_name() or m.username,
            "agency": m.agency.code if m.agency is not None else "",
            "role": "Coordinator" if m.sheet_coordinator else "Member",
        }
        for m in sorted(members, key=lambda m: (not m.sheet_coordinator, m.last_name, m.first_name, m.pk))
    ]
    present_agencies = set()
    for record in meeting_attendance(meeting=meeting):
        if record.user_id in member_ids:
            continue
        present_agencies.add(record.agency.code)
        rows.append(
            {
                "name": record.user.get_full_name() or record.user.username,
                "agency": record.agency.code,
                "role": "Presenter",
            }
        )
    presenting = sorted({e["presenting_agency"] for e in view if e["presenting_agency"] and not e["withdrawn"]})
    rows += [{"name": "", "agency": code, "role": "Presenter"} for code in presenting if code not in present_agencies]
    return rows
