"""Home, "my work" (issue 15 §3): outstanding deadlines (overdue first), the notification
inbox, my cases, and for supervisors the referrals and share requests awaiting them. Every list
is read through the selector the API lists use and audited as those lists are."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from cases.apis.base import _audit_rows
from cases.models import Referral
from cases.selectors import visibility
from core.permissions import is_case_role, is_mdt_member_role, is_supervisor
from mdt.permissions import may_sit_on_team
from notifications.apis import OUTSTANDING, DeadlineFilter, _audit_shown
from notifications.models import Deadline
from notifications.selectors import deadline_list_visible_to, notification_get_for, notification_list_for
from notifications.services.inbox import notification_mark_read

from .common import api_request, is_htmx, page, render_page, signed_in_user

#: Rows per list on the home page (one page of the API's lists).
HOME_ROWS = 50
INBOX_ROWS = 20


def deadline_link(deadline: Deadline) -> str:
    """The web page a deadline belongs to: its case, else its referral."""
    case_id = deadline.case_id or (deadline.referral.case_id if deadline.referral is not None else None)
    if case_id:
        return f"/app/cases/{case_id}/"
    if deadline.referral_id:
        return f"/app/referrals/{deadline.referral_id}/"
    return ""


def outstanding_deadlines(user: Any) -> list[Deadline]:
    """Open and missed deadlines, soonest due first — so the overdue ones come first: the API's
    `GET /api/v1/deadlines/?status=outstanding`, its own filter on its own selector."""
    visible = deadline_list_visible_to(user=user)
    rows = list(DeadlineFilter({"status": OUTSTANDING}, queryset=visible).qs[:HOME_ROWS])
    _audit_shown(user, rows)
    now = timezone.now()
    for row in rows:
        row.web_link = deadline_link(row)
        row.web_overdue = row.status == Deadline.Status.MISSED or row.due_at <= now
    return rows


def my_cases(request: HttpRequest) -> list[Any]:
    user = signed_in_user(request)
    rows = list(
        visibility.case_list_visible_to(user=user)
        .filter(team__user=user, team__removed_at__isnull=True)
        .distinct()[:HOME_ROWS]
    )
    _audit_rows(api_request(request), "case", rows, lambda row: row.youth_id)
    return rows


def referrals_awaiting(request: HttpRequest) -> list[Referral]:
    user = signed_in_user(request)
    rows = list(
        visibility.referral_list_visible_to(user=user).filter(
            receiving_agency_id=user.agency_id, status__in=[Referral.Status.RECEIVED, Referral.Status.SCREENING]
        )[:HOME_ROWS]
    )
    _audit_rows(api_request(request), "referral", rows, lambda row: row.youth_id)
    return rows


def share_requests_awaiting(request: HttpRequest) -> list[Any]:
    rows = list(visibility.share_request_awaiting(user=request.user)[:HOME_ROWS])
    _audit_rows(api_request(request), "share_request", rows, lambda row: row.case.youth_id)
    return rows


@page()
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    context: dict[str, Any] = {"case_side": is_case_role(user), "supervisor": is_supervisor(user)}
    if is_case_role(user) or is_mdt_member_role(user):
        context["deadlines"] = outstanding_deadlines(user)
    context["notifications"] = list(notification_list_for(user=user)[:INBOX_ROWS])
    context["unread"] = sum(1 for n in context["notifications"] if n.read_at is None)
    if may_sit_on_team(user):
        from .mdt_session import my_open_action_items

        context["action_items"] = my_open_action_items(request, limit=HOME_ROWS, audit_empty=False)
    if is_case_role(user) and user.agency_id:
        context["cases"] = my_cases(request)
        if is_supervisor(user):
            context["referrals"] = referrals_awaiting(request)
            context["share_requests"] = share_requests_awaiting(request)
    return render_page(request, "web/home.html", context, nav="home")


@page(methods=("POST",), audit_object_type="notification")
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = notification_get_for(user=request.user, pk=pk)
    if notification is None:
        from django.http import Http404

        raise Http404
    notification = notification_mark_read(notification=notification, actor=signed_in_user(request))
    if is_htmx(request):
        return render_page(request, "web/partials/notification_row.html", {"n": notification})
    return HttpResponseRedirect("/app/#inbox")
