"""Synthetic MDT demo data: the demo users on the STAR and DREAM teams, and the next weeks'
meetings with the demo cases of each court on the first agenda. Idempotent: a team that
already has meetings gets none added."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases.models import Case
from mdt.services.agenda import agenda_item_add
from mdt.services.meetings import meeting_publish, meeting_schedule

from .bootstrap import run as bootstrap_run
from .models import AgendaItem, MDTTeam, Meeting, TeamMembership
from .selectors import PACIFIC

#: (team, username, is_coordinator): demo users from accounts/demo.py.
DEMO_MEMBERS = [
    ("STAR", "probation_mdt_member", True),
    ("STAR", "dmh_mdt_member", False),
    ("STAR", "sheriff_mdt_member", False),
    ("STAR", "probation_supervisor", False),
    ("DREAM", "dcfs_mdt_member", True),
    ("DREAM", "dmh_mdt_member", False),
    ("DREAM", "dcfs_supervisor", False),
]
#: Weekday (Mon=0) of each team's weekly meeting, 9:00-11:00 Pacific.
MEETING_DAY = {"STAR": 2, "DREAM": 3}
SERIES_WEEKS = 4


def _next_weekday_at_nine(weekday: int) -> dt.datetime:
    today = timezone.now().astimezone(PACIFIC).date()
    days = (weekday - today.weekday()) % 7 or 7
    day = today + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=PACIFIC)


@transaction.atomic
def seed_demo() -> str:
    bootstrap_run()
    teams = {team.code: team for team in MDTTeam.objects.all()}
    users = {u.username: u for u in User.objects.filter(username__in=[m[1] for m in DEMO_MEMBERS])}
    added = 0
    for code, username, coordinator in DEMO_MEMBERS:
        if code in teams and username in users:
            _, created = TeamMembership.objects.get_or_create(
                team=teams[code], user=users[username], defaults={"is_coordinator": coordinator}
            )
            added += int(created)

    meetings = 0
    items = 0
    for code, team in teams.items():
        coordinator = next((users[u] for c, u, coord in DEMO_MEMBERS if c == code and coord and u in users), None)
        if coordinator is None or Meeting.objects.filter(team=team).exists():
            continue
        starts_at = _next_weekday_at_nine(MEETING_DAY.get(code, 2))
        series = meeting_schedule(
            team=team,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=2),
            location=f"{team.court_location} (or the team's video link)",
            repeat_weekly=True,
            count=SERIES_WEEKS,
            actor=coordinator,
        )
        meetings += len(series)
        first = series[0]
        for case in Case.objects.filter(court=team.court, status=Case.Status.OPEN).order_by("id")[:6]:
            agenda_item_add(meeting=first, case_id=case.pk, reason=AgendaItem.Reason.PROGRESS_REVIEW, actor=coordinator)
            items += 1
        if code == "STAR":
            meeting_publish(meeting=first, actor=coordinator)
    summary = f"{added} team membership(s), {meetings} meeting(s), {items} agenda item(s) created"
    return "\n".join([summary, *coordinator_lines()])


def coordinator_lines() -> list[str]:
    """Who coordinates which team, for the startup printout: the coordinator builds, publishes
    and changes the team's agendas (and finds its cases by number), so a first-time tester knows
    which demo login to use."""
    lines = []
    for team in MDTTeam.objects.order_by("code"):
        names = list(
            TeamMembership.objects.filter(team=team, is_coordinator=True, user__is_active=True)
            .order_by("user__username")
            .values_list("user__username", flat=True)
        )
        who = ", ".join(names) if names else "none yet (a system admin adds one in the admin)"
        lines.append(f"  {team.code} MDT coordinator(s): {who} — builds and publishes the {team.code} agendas")
    return lines
