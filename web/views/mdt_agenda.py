"""The agenda builder (issue 16 §3), for the team's coordinators: the items in order (move up or
down with buttons — keyboard and mouse alike — or drag them, app.js posting the new order), the
suggestions (hearings within 14 days of the meeting: MeetingSuggestionsApi's selector), finding
cases by number among the court's open cases (the eligible-cases search), adding with a reason,
presenting agency and minutes, removing, and publishing with a summary of whom it notifies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from accounts.models import Agency
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.errors import ApplicationError
from mdt import selectors
from mdt.apis.reads import audit_reads, empty_list
from mdt.models import AgendaItem, Meeting
from mdt.services.agenda import agenda_item_add, agenda_item_remove, agenda_reorder
from mdt.services.meetings import meeting_publish

from ..mdt_forms import AgendaItemForm, FindEligibleForm
from .common import api_request, page, render_page, signed_in_user
from .mdt import forbid_unless_coordinator, meeting_for

Action = AuditEvent.Action
SUGGESTION_ROWS = 50


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    meeting = meeting_for(request, pk)
    forbid_unless_coordinator(request, meeting.team_id)
    return meeting


def _agencies() -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in Agency.objects.filter(is_active=True).order_by("code")]


def _items(request: HttpRequest, meeting: Meeting) -> list[AgendaItem]:
    """As MeetingItemListCreateApi lists them: the meeting, and each item listed."""
    items = list(selectors.meeting_items(meeting=meeting))
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
        ],
    )
    return items


def _suggestions(request: HttpRequest, meeting: Meeting) -> list[Any]:
    rows = list(selectors.meeting_suggestions(user=request.user, meeting=meeting)[:SUGGESTION_ROWS])
    audit_reads(
        api_request(request),
        [
            AuditEntry(Action.LIST, "mdt_suggestion", c.pk, youth_id=c.youth_id, detail={"meeting": meeting.pk})
            for c in rows
        ],
        empty=empty_list("mdt_suggestion", meeting=meeting.pk),
    )
    return rows


def _found(request: HttpRequest, meeting: Meeting, form: FindEligibleForm) -> list[dict[str, Any]] | None:
    """The eligible-cases search: TeamEligibleCasesApi's selectors (the court's open cases by
    number, shown as their agenda views) and its audit. The builder is for coordinators only
    (checked by the page before this)."""
    if not (form.is_bound and form.is_valid()):
        return None
    from django.utils import timezone

    team = meeting.team
    cases = selectors.eligible_cases(user=request.user, team=team, number=form.cleaned_data["number"])
    found = selectors.case_agenda_views(cases=cases, team_id=team.pk, as_of=timezone.now())
    audit_reads(
        api_request(request),
        [
            AuditEntry(Action.LIST, "case_agenda_view", v["case"], youth_id=v["youth_id"], detail={"team": team.pk})
            for v in found
        ],
        empty=empty_list("case_agenda_view", team=team.pk),
    )
    return found


def builder_context(request: HttpRequest, meeting: Meeting, **forms: Any) -> dict[str, Any]:
    items = _items(request, meeting)
    on_agenda = {i.case_id for i in items}
    editable = meeting.agenda_editable
    find_form = forms.get("find_form") or FindEligibleForm(request.GET if "number" in request.GET else None)
    context: dict[str, Any] = {
        "meeting": meeting,
        "items": items,
        "editable": editable,
        "find_form": find_form,
        "add_form": forms.get("add_form") or AgendaItemForm(agencies=_agencies(), prefix="add"),
        "agencies": _agencies(),
        "reasons": AgendaItem.Reason.choices,
        "total_minutes": sum(i.minutes_allotted for i in items),
    }
    if editable:
        context["suggestions"] = _suggestions(request, meeting)
        found = _found(request, meeting, find_form)
        if found is not None:
            for v in found:
                v["on_agenda"] = v["case"] in on_agenda
        context["found"] = found
    return context


@page(audit_object_type="mdt_meeting")
def builder(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    context = builder_context(request, meeting)
    status = 400 if context["find_form"].is_bound and context["find_form"].errors else 200
    return render_page(request, "web/mdt/builder.html", context, nav="mdt", status=status)


def _back(meeting: Meeting, anchor: str = "items") -> HttpResponse:
    return HttpResponseRedirect(f"/app/mdt/meetings/{meeting.pk}/agenda/#{anchor}")


@page(methods=("POST",), audit_object_type="mdt_agenda_item")
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    form = AgendaItemForm(request.POST, agencies=_agencies(), prefix="add")
    if form.is_valid():
        code = form.cleaned_data["presenting_agency"]
        try:
            item = agenda_item_add(
                meeting=meeting,
                case_id=form.cleaned_data["case"],
                reason=form.cleaned_data["reason"],
                presenting_agency=Agency.objects.get(code=code) if code else None,
                minutes_allotted=form.cleaned_data["minutes_allotted"],
                actor=signed_in_user(request),
            )
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, f"Case {item.case.number} is on the agenda.")
            return _back(meeting)
    context = builder_context(request, meeting, add_form=form)
    return render_page(request, "web/mdt/builder.html", context, nav="mdt", status=400)


def _item_of(meeting: Meeting, items: list[AgendaItem], item_id: int) -> AgendaItem:
    for item in items:
        if item.pk == item_id:
            return item
    raise Http404


@page(methods=("POST",), audit_object_type="mdt_agenda_item")
def item_move(request: HttpRequest, pk: int, item_id: int, direction: str) -> HttpResponse:
    meeting = _meeting(request, pk)
    if direction not in ("up", "down"):
        raise Http404
    items = list(selectors.meeting_items(meeting=meeting))
    item = _item_of(meeting, items, item_id)
    order = [i.pk for i in items]
    at = order.index(item.pk)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
        agenda_reorder(meeting=meeting, item_ids=order, actor=signed_in_user(request))
        messages.success(request, f"Case {item.case.number} moved {direction} to number {to + 1}.")
    return HttpResponseRedirect(f"/app/mdt/meetings/{meeting.pk}/agenda/#item-{item.pk}")


@page(methods=("POST",), audit_object_type="mdt_meeting")
def items_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """The order a drag and drop left (app.js posts every item id, in order)."""
    meeting = _meeting(request, pk)
    try:
        ids = [int(v) for v in request.POST.getlist("items")]
    except ValueError as exc:
        raise ApplicationError("List every item of this agenda exactly once.") from exc
    agenda_reorder(meeting=meeting, item_ids=ids, actor=signed_in_user(request))
    messages.success(request, "The agenda's order is saved.")
    return _back(meeting)


@page(methods=("POST",), audit_object_type="mdt_agenda_item")
def item_remove(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    item = _item_of(meeting, list(selectors.meeting_items(meeting=meeting)), item_id)
    agenda_item_remove(item=item, actor=signed_in_user(request))
    messages.success(request, f"Case {item.case.number} is off the agenda.")
    return _back(meeting)


@page(methods=("GET", "POST"), audit_object_type="mdt_meeting")
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation, with whom it will notify; POST: publish."""
    meeting = _meeting(request, pk)
    if request.method == "POST":
        meeting_publish(meeting=meeting, actor=signed_in_user(request))
        messages.success(request, "The agenda is published; the team's members are notified.")
        return HttpResponseRedirect(f"/app/mdt/meetings/{meeting.pk}/")
    items = _items(request, meeting)
    members = list(selectors.team_members(team=meeting.team))
    by_agency: dict[str, int] = {}
    for member in members:
        assert member.agency is not None  # team_members() selects only people of an agency
        by_agency[member.agency.code] = by_agency.get(member.agency.code, 0) + 1
    return render_page(
        request,
        "web/mdt/publish.html",
        {
            "meeting": meeting,
            "items": items,
            "members": members,
            "others": [m for m in members if m.pk != request.user.pk],
            "by_agency": sorted(by_agency.items()),
        },
        nav="mdt",
    )
