"""The MDT meeting workspace (issue 16): My MDT, scheduling a meeting, the agenda as members read
it, and its PDF and calendar downloads. Every read goes through mdt.selectors and is audited as
the matching API read is (MeetingListCreateApi, MeetingAgendaApi, MeetingCalendarApi); every
write is an mdt service. The pages are for the roles that may sit on a team: anyone else gets
the 404 of an object they may not see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.errors import ApplicationError
from mdt import exports, selectors
from mdt.apis.reads import audit_reads, empty_list
from mdt.models import Meeting
from mdt.permissions import may_sit_on_team
from mdt.services.meetings import meeting_schedule

from ..mdt_forms import ScheduleMeetingForm
from .common import api_request, page, render_page, signed_in_user

Action = AuditEvent.Action
#: Past meetings shown on My MDT (the most recent first).
PAST_ROWS = 20
UPCOMING_ROWS = 50


def require_team_role(request: HttpRequest) -> None:
    """The MDT pages are for the roles that may sit on a team (SPEC §4); admins and auditors get
    the 404 of a page naming case data."""
    if not may_sit_on_team(request.user):
        raise Http404


def forbid_unless_coordinator(request: HttpRequest, team_id: int) -> None:
    """A member who is not a coordinator sees the meeting but may not build it (403, as the
    API's suggestions and the services answer)."""
    if not selectors.is_coordinator(user=request.user, team=team_id):
        raise ApplicationError("Only the team's coordinators build its agendas.", code="forbidden")


def meeting_for(request: HttpRequest, pk: int) -> Meeting:
    require_team_role(request)
    return selectors.meeting_get_visible(user=request.user, pk=pk)


# --- My MDT ---------------------------------------------------------------------------------------


@page(audit_object_type="mdt_meeting")
def my_mdt(request: HttpRequest) -> HttpResponse:
    require_team_role(request)
    user = request.user
    flags = selectors.membership_flags(user=user)
    teams = [{"team": t, "coordinator": flags[t.pk]} for t in selectors.team_list(user=user) if t.pk in flags]
    now = timezone.now()
    meetings = selectors.meeting_list_visible_to(user=user)
    upcoming = list(meetings.filter(ends_at__gte=now)[:UPCOMING_ROWS])
    past = list(meetings.filter(ends_at__lt=now).order_by("-starts_at", "-id")[:PAST_ROWS])
    audit_reads(
        api_request(request),
        [AuditEntry(Action.LIST, "mdt_meeting", m.pk) for m in [*upcoming, *past]],
        empty=empty_list("mdt_meeting"),
    )
    for m in [*upcoming, *past]:
        m.web_coordinator = flags.get(m.team_id, False)  # type: ignore[attr-defined]
    return render_page(request, "web/mdt/my_mdt.html", {"teams": teams, "upcoming": upcoming, "past": past}, nav="mdt")


# --- scheduling -----------------------------------------------------------------------------------


def next_weekday_at(weekday: int, hour: int, now: dt.datetime | None = None) -> dt.datetime:
    """The next `weekday` (0 = Monday) at `hour`:00 Pacific after today: the form's suggestion."""
    local = timezone.localtime(now or timezone.now(), selectors.PACIFIC)
    days = (weekday - local.weekday()) % 7 or 7
    day = (local + dt.timedelta(days=days)).date()
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=selectors.PACIFIC)


@page(methods=("GET", "POST"), audit_object_type="mdt_team")
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    require_team_role(request)
    team = selectors.team_get(user=request.user, pk=pk)
    forbid_unless_coordinator(request, team.pk)
    if request.method == "POST":
        form = ScheduleMeetingForm(request.POST)
        if form.is_valid():
            try:
                meeting = meeting_schedule(
                    team=team,
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    location=form.cleaned_data["location"],
                    actor=signed_in_user(request),
                )[0]
            except ApplicationError as exc:
                if exc.code != "invalid":
                    raise
                form.add_service_error(exc)
            else:
                messages.success(request, "The meeting is scheduled. Now build its agenda.")
                return HttpResponseRedirect(f"/app/mdt/meetings/{meeting.pk}/agenda/")
        status = 400
    else:
        start = next_weekday_at(1, 9)  # next Tuesday, 9:00
        fmt = "%Y-%m-%dT%H:%M"
        form = ScheduleMeetingForm(
            initial={
                "starts_at": start.strftime(fmt),
                "ends_at": (start + dt.timedelta(hours=2)).strftime(fmt),
                "location": team.court_location,
            }
        )
        status = 200
    return render_page(request, "web/mdt/schedule.html", {"team": team, "form": form}, nav="mdt", status=status)


# --- the agenda as members read it ----------------------------------------------------------------


def agenda_entries(action: str, fmt: str, meeting: Meeting, view: list[dict[str, Any]]) -> list[AuditEntry]:
    """The events of MeetingAgendaApi: the meeting, and the agenda view of each case shown."""
    return [
        AuditEntry(action, "mdt_meeting", meeting.pk, detail={"format": fmt, "items": len(view)}),
        *[
            AuditEntry(
                action,
                "case_agenda_view",
                e["case"],
                youth_id=e["youth_id"],
                detail={"meeting": meeting.pk, "format": fmt},
            )
            for e in view
        ],
    ]


def dress_agenda(meeting: Meeting, view: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the page adds to the agenda view: which deadlines are overdue on the meeting day (due
    by the meeting's start, or already missed)."""
    for entry in view:
        for d in entry["open_deadlines"]:
            due = d.get("due_at")
            d["overdue"] = d.get(
                "overdue", d.get("status") == "missed" or (due is not None and due <= meeting.starts_at)
            )
    return view


def read_agenda(request: HttpRequest, meeting: Meeting, *, action: str = Action.VIEW, fmt: str = "json") -> tuple:
    shared = selectors.agenda_shared_with(user=request.user, meeting=meeting)
    view = selectors.agenda_view(user=request.user, meeting=meeting) if shared else []
    audit_reads(api_request(request), agenda_entries(action, fmt, meeting, view))
    return shared, view


@page(audit_object_type="mdt_meeting")
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_for(request, pk)
    shared, view = read_agenda(request, meeting)
    coordinator = selectors.is_coordinator(user=request.user, team=meeting.team_id)
    return render_page(
        request,
        "web/mdt/meeting.html",
        {
            "meeting": meeting,
            "shared": shared,
            "items": dress_agenda(meeting, view),
            "coordinator": coordinator,
            "confidentiality": exports.CONFIDENTIALITY_HEADING,
        },
        nav="mdt",
    )


@page(audit_object_type="mdt_meeting")
def agenda_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable agenda: the API's `?format=pdf` (same export and audit)."""
    meeting = meeting_for(request, pk)
    _, view = read_agenda(request, meeting, action=Action.EXPORT, fmt="pdf")
    response = HttpResponse(
        exports.agenda_pdf(meeting=meeting, view=view, printed_by=request.user), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="agenda-{meeting.team.code.lower()}-{meeting.pk}.pdf"'
    return response


@page(audit_object_type="mdt_meeting")
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting as one calendar event: the API's calendar.ics (same export and audit)."""
    meeting = meeting_for(request, pk)
    audit_reads(api_request(request), [AuditEntry(Action.EXPORT, "mdt_meeting", meeting.pk, detail={"format": "ics"})])
    response = HttpResponse(exports.meeting_ics(meeting=meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
