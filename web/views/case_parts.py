"""The case page's writes of its placements, services, hearings and safety alerts (issue 15):
each the service its API endpoint calls (cases/apis/parts.py), with the same checks — the
service's `case_for_write` (404 for a case one may not see, 409 once it is closed) and its
capability refusals (403) — and the same audit events, written by the service. A change to a
part sends the version the page rendered as If-Match, as a PATCH would: a stale form is refused
with a message (412) instead of overwriting. Plain POST and redirect (the case page's forms do
not use htmx), so every form works without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse

from cases.models import Case
from cases.permissions import CaseAccess
from cases.selectors import parts as part_selectors
from cases.services import court_hearings as hearing_services
from cases.services import placements as placement_services
from cases.services import safety_alerts as alert_services
from cases.services import service_referrals as service_referral_services
from core.errors import ApplicationError, PreconditionFailed

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
    VersionedForm,
)
from ..forms import UswdsForm
from .cases import _back, _case, case_context
from .common import page, render_page, signed_in_user

STALE = (
    "Someone changed this since you opened the page, so nothing was saved. The page now shows it as it "
    "is: check it, then send again if your change still applies."
)


def _part_of(case: Case, part: Any) -> Any:
    """A part reached by its id through the selector (404 unless its case is visible) must also
    be this case's: the path names both."""
    if part.case_id != case.pk:
        raise Http404
    return part


def _submit(
    request: HttpRequest,
    case: Case,
    access: CaseAccess,
    form: UswdsForm,
    *,
    form_key: str,
    anchor: str,
    success: str,
    write: Callable[[], Any],
    field_map: dict[str, str] | None = None,
    reread: Callable[[], Any] | None = None,
) -> HttpResponse:
    """Validate, call the one service, and redirect to the part's place on the page; else show
    the page with the form's errors (summary on top, message at each field). A refusal of the
    service's own rules (400, or 409 for a move the part's state does not allow) is shown on the
    form; who may not do it at all gets the 403/404 page, as from the API."""
    status = 400
    if form.is_valid():
        try:
            write()
        except PreconditionFailed:
            assert isinstance(form, VersionedForm) and reread is not None
            form.refresh_version(reread())
            form.add_error(None, STALE)
            status = 412
        except ApplicationError as exc:
            if exc.code not in ("invalid", "conflict"):
                raise
            form.add_service_error(exc, field_map=field_map)
            status = 409 if exc.code == "conflict" else 400
        else:
            messages.success(request, success)
            return _back(case, anchor)
    context = case_context(request, case, access, **{form_key: form})
    return render_page(request, "web/cases/detail.html", context, status=status)


# --- placements ------------------------------------------------------------------------------------


@page(methods=("POST",), audit_object_type="placement")
def placement_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = PlacementForm(request.POST, prefix="placement", protected=access.can_see_protected)
    return _submit(
        request,
        case,
        access,
        form,
        form_key="placement_form",
        anchor="placements",
        success="The placement is recorded. A current placement it follows ended on its start date.",
        write=lambda: placement_services.placement_create(
            case=case, actor=signed_in_user(request), **form.service_data()
        ),
    )


@page(methods=("POST",), audit_object_type="placement")
def placement_end(request: HttpRequest, pk: int, placement_id: int) -> HttpResponse:
    case, access = _case(request, pk)
    placement = _part_of(case, part_selectors.placement_get_visible(user=request.user, pk=placement_id))
    form = PlacementEndForm(request.POST, prefix=f"end{placement.pk}")
    return _submit(
        request,
        case,
        access,
        form,
        form_key="part_form",
        anchor=f"placement-{placement.pk}",
        success="The placement is ended.",
        write=lambda: placement_services.placement_update(
            placement=placement,
            actor=signed_in_user(request),
            data={"end_date": form.cleaned_data["end_date"], "end_reason": form.cleaned_data["end_reason"]},
            if_match=form.if_match(),
        ),
        reread=lambda: part_selectors.placement_get_visible(user=request.user, pk=placement.pk),
    )


# --- services --------------------------------------------------------------------------------------


@page(methods=("POST",), audit_object_type="service_referral")
def service_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = ServiceForm(request.POST, prefix="service", clinical=access.can_write_clinical)
    return _submit(
        request,
        case,
        access,
        form,
        form_key="service_form",
        anchor="services",
        success="The service referral is recorded.",
        write=lambda: service_referral_services.service_referral_create(
            case=case, actor=signed_in_user(request), **form.cleaned_data
        ),
    )


@page(methods=("POST",), audit_object_type="service_referral")
def service_status(request: HttpRequest, pk: int, service_id: int) -> HttpResponse:
    case, access = _case(request, pk)
    # a mental-health service answers 404 to whom may not read clinical notes, as its API detail
    service = _part_of(case, part_selectors.service_referral_get_visible(user=request.user, pk=service_id))
    form = ServiceStatusForm(request.POST, prefix=f"svc{service.pk}", service=service)
    return _submit(
        request,
        case,
        access,
        form,
        form_key="part_form",
        anchor=f"service-{service.pk}",
        success="The service is updated.",
        write=lambda: service_referral_services.service_referral_update(
            service=service, actor=signed_in_user(request), data=form.service_data(), if_match=form.if_match()
        ),
        field_map=ServiceStatusForm.FIELD_MAP,
        reread=lambda: part_selectors.service_referral_get_visible(user=request.user, pk=service.pk),
    )


# --- hearings --------------------------------------------------------------------------------------


@page(methods=("POST",), audit_object_type="court_hearing")
def hearing_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = HearingForm(request.POST, prefix="hearing")
    return _submit(
        request,
        case,
        access,
        form,
        form_key="hearing_form",
        anchor="hearings",
        success="The hearing is scheduled.",
        write=lambda: hearing_services.court_hearing_create(
            case=case, actor=signed_in_user(request), **form.cleaned_data
        ),
    )


#: Each change of a hearing: its form, the prefix of its form on the page, and what it says done.
HEARING_CHANGES: dict[str, tuple[type[VersionedForm], str, str]] = {
    "reschedule": (HearingRescheduleForm, "resched", "The hearing is rescheduled."),
    "cancel": (HearingCancelForm, "cancel", "The hearing is cancelled."),
    "outcome": (HearingOutcomeForm, "outcome", "The hearing is recorded as held, with its outcome."),
}


@page(methods=("POST",), audit_object_type="court_hearing")
def hearing_change(request: HttpRequest, pk: int, hearing_id: int, change: str) -> HttpResponse:
    case, access = _case(request, pk)
    hearing = _part_of(case, part_selectors.court_hearing_get_visible(user=request.user, pk=hearing_id))
    if change not in HEARING_CHANGES:
        raise Http404
    form_class, prefix, success = HEARING_CHANGES[change]
    form: Any = form_class(request.POST, prefix=f"{prefix}{hearing.pk}")
    return _submit(
        request,
        case,
        access,
        form,
        form_key="part_form",
        anchor=f"hearing-{hearing.pk}",
        success=success,
        write=lambda: hearing_services.court_hearing_update(
            hearing=hearing, actor=signed_in_user(request), data=form.service_data(), if_match=form.if_match()
        ),
        reread=lambda: part_selectors.court_hearing_get_visible(user=request.user, pk=hearing.pk),
    )


# --- safety alerts ---------------------------------------------------------------------------------


@page(methods=("POST",), audit_object_type="safety_alert")
def alert_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = AlertForm(request.POST, prefix="alert", protected=access.can_see_protected)
    return _submit(
        request,
        case,
        access,
        form,
        form_key="alert_form",
        anchor="alerts",
        success="The safety alert is raised; it shows at the top of the case and its agenda view.",
        write=lambda: alert_services.safety_alert_create(
            case=case, actor=signed_in_user(request), **form.service_data()
        ),
    )


@page(methods=("POST",), audit_object_type="safety_alert")
def alert_resolve(request: HttpRequest, pk: int, alert_id: int) -> HttpResponse:
    case, access = _case(request, pk)
    alert = _part_of(case, part_selectors.safety_alert_get_visible(user=request.user, pk=alert_id))
    form = AlertResolveForm(request.POST, prefix=f"resolve{alert.pk}")
    return _submit(
        request,
        case,
        access,
        form,
        form_key="part_form",
        anchor="alerts",
        success="The safety alert is resolved; it stays in the case's history.",
        write=lambda: alert_services.safety_alert_resolve(
            alert=alert, actor=signed_in_user(request), reason=form.cleaned_data["reason"], if_match=form.if_match()
        ),
        reread=lambda: part_selectors.safety_alert_get_visible(user=request.user, pk=alert.pk),
    )
