"""The meeting in progress (issue 16 §5): attendance, each item's review outcome (an edit is a new
version, the earlier shown) and its action items, the minutes, and finalising them after a
confirmation. My action items (§6) and the personal calendar feed (§7). Reads through
mdt.selectors, audited as the API reads are; writes through the mdt services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from audit.models import AuditEvent
from audit.services.record import AuditEntry
from cases.selectors import parts as part_selectors
from core.errors import ApplicationError
from mdt import selectors
from mdt.apis.reads import audit_reads, empty_list
from mdt.models import ActionItem, AgendaItem, CalendarFeed, Meeting, TeamMembership
from mdt.services.action_items import action_item_cancel, action_item_create, action_item_mark_done
from mdt.services.agenda import agenda_item_review
from mdt.services.attendance import attendance_record
from mdt.services.calendar_feeds import calendar_feed_rotate
from mdt.services.meetings import meeting_finalize_minutes, meeting_hold, meeting_update

from ..mdt_forms import ActionItemForm, AttendanceForm, MinutesForm, ReviewForm
from .common import api_request, page, render_page, signed_in_user
from .mdt import meeting_for, require_team_role

Action = AuditEvent.Action
MY_ITEMS_ROWS = 100


def _attendees(meeting: Meeting) -> list[Any]:
    return list(selectors.team_members(team=meeting.team))


def _assignable(meeting: Meeting, item: AgendaItem, members: list[Any]) -> list[tuple[str, str]]:
    """SPEC §4: a member of the MDT team or of the case's team (the service decides)."""
    people = {m.pk: m for m in members}
    for member in part_selectors.case_team_list(case=item.case):
        people.setdefault(member.user_id, member.user)
    return [
        (str(p.pk), f"{p.get_full_name() or p.username} ({p.agency.code if p.agency_id else ''})")
        for p in people.values()
        if p.is_active
    ]


def session_context(request: HttpRequest, meeting: Meeting, **forms: Any) -> dict[str, Any]:
    items = list(selectors.meeting_items(meeting=meeting))
    attendance = list(selectors.meeting_attendance(meeting=meeting))
    actions = list(selectors.action_item_list_visible_to(user=request.user).filter(meeting=meeting))
    audit_reads(
        api_request(request),
        [
            AuditEntry(Action.VIEW, "mdt_meeting", meeting.pk),
            *[
                AuditEntry(
                    Action.LIST, "mdt_agenda_item", i.pk, youth_id=i.case.youth_id, detail={"meeting": meeting.pk}
                )
                for i in items
            ],
            *[AuditEntry(Action.LIST, "mdt_attendance", a.pk, detail={"meeting": meeting.pk}) for a in attendance],
            *[AuditEntry(Action.LIST, "mdt_action_item", a.pk, youth_id=a.case.youth_id) for a in actions],
        ],
    )
    members = _attendees(meeting)
    marked = {a.user_id: a.present for a in attendance}
    recording = meeting.in_session
    rows = []
    for item in items:
        rows.append(
            {
                "item": item,
                "versions": list(item.review_versions.all()),
                "actions": [a for a in actions if a.case_id == item.case_id],
                "review_form": forms.get(f"review_{item.pk}") or ReviewForm(prefix=f"r{item.pk}"),
                "action_form": forms.get(f"action_{item.pk}")
                or ActionItemForm(prefix=f"a{item.pk}", people=_assignable(meeting, item, members)),
            }
        )
    return {
        "meeting": meeting,
        "rows": rows,
        "recording": recording,
        "coordinator": selectors.is_coordinator(user=request.user, team=meeting.team_id),
        "attendance_form": forms.get("attendance_form") or AttendanceForm(people=members, initial_present=marked),
        "attendance": attendance,
        "minutes_form": forms.get("minutes_form") or MinutesForm(initial={"minutes": meeting.minutes}),
    }


def _session(request: HttpRequest, pk: int) -> Meeting:
    meeting = meeting_for(request, pk)
    if not selectors.agenda_shared_with(user=request.user, meeting=meeting):
        raise ApplicationError("The meeting's agenda is not published yet.", code="conflict")
    return meeting


@page(audit_object_type="mdt_meeting")
def session(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _session(request, pk)
    return render_page(request, "web/mdt/session.html", session_context(request, meeting), nav="mdt")


def _back(meeting: Meeting, anchor: str) -> HttpResponse:
    return HttpResponseRedirect(f"/app/mdt/meetings/{meeting.pk}/session/#{anchor}")


def _invalid(request: HttpRequest, meeting: Meeting, **forms: Any) -> HttpResponse:
    return render_page(request, "web/mdt/session.html", session_context(request, meeting, **forms), status=400)


@page(methods=("POST",), audit_object_type="mdt_attendance")
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _session(request, pk)
    members = _attendees(meeting)
    form = AttendanceForm(request.POST, people=members, initial_present={})
    form.is_valid()
    count = 0
    for person in members:
        value = form.cleaned_data.get(f"p{person.pk}")
        if value in ("present", "absent"):
            attendance_record(meeting=meeting, user=person, present=value == "present", actor=signed_in_user(request))
            count += 1
    messages.success(request, f"Attendance is recorded for {count} people.")
    return _back(meeting, "attendance")


def _item(meeting: Meeting, request: HttpRequest, item_id: int) -> AgendaItem:
    item = selectors.agenda_item_get_visible(user=request.user, pk=item_id)
    if item.meeting_id != meeting.pk:
        raise Http404
    return item


@page(methods=("POST",), audit_object_type="mdt_review")
def review(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    meeting = _session(request, pk)
    item = _item(meeting, request, item_id)
    form = ReviewForm(request.POST, prefix=f"r{item.pk}")
    if form.is_valid():
        agenda_item_review(
            item=item,
            summary=form.cleaned_data["summary"],
            decisions=form.cleaned_data["decisions"],
            actor=signed_in_user(request),
        )
        messages.success(request, f"The review of case {item.case.number} is recorded.")
        return _back(meeting, f"item-{item.pk}")
    return _invalid(request, meeting, **{f"review_{item.pk}": form})


@page(methods=("POST",), audit_object_type="mdt_action_item")
def action_add(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    meeting = _session(request, pk)
    item = _item(meeting, request, item_id)
    form = ActionItemForm(request.POST, prefix=f"a{item.pk}", people=_assignable(meeting, item, _attendees(meeting)))
    if form.is_valid():
        from accounts.models import User

        assignee = User.objects.select_related("agency").get(pk=int(form.cleaned_data["assignee"]))
        try:
            action_item_create(
                case_id=item.case_id,
                meeting=meeting,
                description=form.cleaned_data["description"],
                assignee=assignee,
                agency=assignee.agency,
                due_at=form.cleaned_data["due_at"],
                actor=signed_in_user(request),
            )
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, f"The action item for case {item.case.number} is recorded.")
            return _back(meeting, f"item-{item.pk}")
    return _invalid(request, meeting, **{f"action_{item.pk}": form})


@page(methods=("POST",), audit_object_type="mdt_meeting")
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _session(request, pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        if request.POST.get("finalise") == "yes":
            if meeting.status == Meeting.Status.PUBLISHED:
                meeting = meeting_hold(meeting=meeting, actor=signed_in_user(request))
            try:
                meeting_finalize_minutes(
                    meeting=meeting, minutes=form.cleaned_data["minutes"], actor=signed_in_user(request)
                )
            except ApplicationError as exc:
                if exc.code != "invalid":
                    raise
                form.add_service_error(exc)
                return _invalid(request, meeting, minutes_form=form)
            messages.success(request, "The minutes are final: the meeting is locked.")
        else:
            meeting_update(
                meeting=meeting, data={"minutes": form.cleaned_data["minutes"]}, actor=signed_in_user(request)
            )
            messages.success(request, "The minutes are saved.")
        return _back(meeting, "minutes")
    return _invalid(request, meeting, minutes_form=form)


# --- my action items ------------------------------------------------------------------------------


def my_open_action_items(
    request: HttpRequest, *, limit: int = MY_ITEMS_ROWS, audit_empty: bool = True
) -> list[ActionItem]:
    """The open items assigned to the user, overdue first (soonest due first), audited as the
    API's `GET /action-items/?assignee=me&status=open` (home shows the section only when there
    are some, and audits only what it shows)."""
    user = signed_in_user(request)
    rows: list[ActionItem] = list(
        selectors.action_item_list_visible_to(user=user)
        .filter(assignee=user, status=ActionItem.Status.OPEN)
        .select_related("meeting")
        # The assignee may be on the case's team and not the MDT's (SPEC §4): the meeting's page
        # is the team's, so it is linked only for its members (no link to a 404 page).
        .annotate(web_on_team=Exists(TeamMembership.objects.filter(user=user, team_id=OuterRef("team_id"))))[:limit]
    )
    audit_reads(
        api_request(request),
        [AuditEntry(Action.LIST, "mdt_action_item", a.pk, youth_id=a.case.youth_id) for a in rows],
        empty=empty_list("mdt_action_item") if audit_empty else None,
    )
    now = timezone.now()
    for row in rows:
        row.web_overdue = row.due_at <= now  # type: ignore[attr-defined]
    return rows


@page(audit_object_type="mdt_action_item")
def my_action_items(request: HttpRequest) -> HttpResponse:
    require_team_role(request)
    return render_page(request, "web/mdt/action_items.html", {"items": my_open_action_items(request)}, nav="mdt")


@page(methods=("POST",), audit_object_type="mdt_action_item")
def action_close(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    require_team_role(request)
    item = selectors.action_item_get_visible(user=request.user, pk=pk)
    if decision == "done":
        action_item_mark_done(item=item, actor=signed_in_user(request))
        messages.success(request, f"The action item for case {item.case.number} is done.")
    elif decision == "cancel":
        action_item_cancel(item=item, actor=signed_in_user(request))
        messages.success(request, f"The action item for case {item.case.number} is cancelled.")
    else:
        raise Http404
    back = request.POST.get("next", "")
    return HttpResponseRedirect(back if back in ("/app/", "/app/mdt/action-items/") else "/app/mdt/action-items/")


# --- the personal calendar feed -------------------------------------------------------------------


@page(methods=("GET", "POST"), audit_object_type="mdt_calendar_feed")
def calendar(request: HttpRequest) -> HttpResponse:
    """See whether the feed is on; POST creates or rotates it and shows the URL this once."""
    require_team_role(request)
    url = ""
    feed: CalendarFeed | None
    if request.method == "POST":
        from django.conf import settings
        from django.urls import reverse

        feed, token = calendar_feed_rotate(actor=signed_in_user(request))
        url = settings.HARBOR_BASE_URL.rstrip("/") + reverse("mdt-calendar-feed-public", kwargs={"token": token})
    else:
        feed = selectors.calendar_feed_get(user=request.user)
        audit_reads(api_request(request), [AuditEntry(Action.VIEW, "mdt_calendar_feed", feed.pk if feed else "")])
    return render_page(request, "web/mdt/calendar.html", {"feed": feed, "url": url}, nav="mdt")
