"""The case page's forms for its placements, services, hearings and safety alerts (issue 15): which
form each row gets, built from what the selectors returned and what `case_access` says the
person may do — the same predicates the services check, so a form is offered only to whom the
API lets write it. The views that take them are in case_parts.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from cases.models import CourtHearing, ServiceReferral
from cases.permissions import CaseAccess

from ..case_part_forms import (
    AlertForm,
    AlertResolveForm,
    HearingCancelForm,
    HearingForm,
    HearingOutcomeForm,
    HearingRescheduleForm,
    PlacementEndForm,
    PlacementForm,
    ServiceForm,
    ServiceStatusForm,
)


def may_resolve(access: CaseAccess, alert: Any) -> bool:
    """SPEC §2, as safety_alert_resolve checks it: the lead agency's case team or supervisors,
    or the person who raised the alert."""
    return access.can_edit_case or alert.created_by_id == access.user.pk


def _or_new(failed: Any, prefix: str, make: Any) -> Any:
    """The form that failed (re-shown with its errors) if it is this row's, else a fresh one."""
    return failed if failed is not None and failed.prefix == prefix else make()


def parts_context(
    request: HttpRequest,
    *,
    access: CaseAccess,
    is_open: bool,
    alerts: list[Any],
    placements: list[Any],
    services: list[Any],
    hearings: list[Any],
    names: dict[int, str],
    forms: dict[str, Any],
) -> dict[str, Any]:
    """Each part with the forms that change it. A closed case takes notes only (SPEC §2): no
    part form at all there."""
    failed = forms.get("part_form")
    now = timezone.now()
    context: dict[str, Any] = {"part_form": failed}

    def row_forms(make: dict[str, Any]) -> dict[str, Any]:
        return {key: _or_new(failed, prefix, build) for key, (prefix, build) in make.items()} if is_open else {}

    context["alert_rows"] = [
        {
            "a": a,
            "resolver": names.get(a.resolved_by_id, f"user {a.resolved_by_id}") if a.resolved_by_id else "",
            **row_forms(
                {"resolve_form": (f"resolve{a.pk}", lambda a=a: AlertResolveForm(prefix=f"resolve{a.pk}", part=a))}
                if a.is_active and may_resolve(access, a)
                else {}
            ),
        }
        for a in alerts
    ]
    context["placement_rows"] = [
        {
            "p": p,
            **row_forms(
                {"end_form": (f"end{p.pk}", lambda p=p: PlacementEndForm(prefix=f"end{p.pk}", part=p))}
                if p.end_date is None
                else {}
            ),
        }
        for p in placements
    ]
    context["service_rows"] = [
        {
            "s": s,
            **row_forms(
                {"status_form": (f"svc{s.pk}", lambda s=s: ServiceStatusForm(prefix=f"svc{s.pk}", service=s))}
                if ServiceReferral.TRANSITIONS.get(s.status)
                else {}
            ),
        }
        for s in services
    ]
    hearing_rows = []
    for h in hearings:
        make: dict[str, Any] = {}
        if h.status in CourtHearing.PENDING:
            make["reschedule_form"] = (
                f"resched{h.pk}",
                lambda h=h: HearingRescheduleForm(prefix=f"resched{h.pk}", part=h),
            )
            make["cancel_form"] = (f"cancel{h.pk}", lambda h=h: HearingCancelForm(prefix=f"cancel{h.pk}", part=h))
        # the outcome once its time has come (the service's rule; it says so if the clock disagrees),
        # and its correction once held
        if (h.status in CourtHearing.PENDING and h.starts_at <= now) or h.status == CourtHearing.Status.HELD:
            make["outcome_form"] = (
                f"outcome{h.pk}",
                lambda h=h: HearingOutcomeForm(prefix=f"outcome{h.pk}", part=h, initial={"outcome": h.outcome}),
            )
        hearing_rows.append({"h": h, **row_forms(make)})
    context["hearing_rows"] = hearing_rows
    if is_open:
        context["alert_form"] = forms.get("alert_form") or AlertForm(prefix="alert", protected=access.can_see_protected)
        context["placement_form"] = forms.get("placement_form") or PlacementForm(
            prefix="placement", protected=access.can_see_protected
        )
        context["service_form"] = forms.get("service_form") or ServiceForm(
            prefix="service", clinical=access.can_write_clinical
        )
        context["hearing_form"] = forms.get("hearing_form") or HearingForm(prefix="hearing")
    return context
