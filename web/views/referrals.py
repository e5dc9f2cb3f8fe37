"""Referral intake with the live duplicate check, and the referral page: details, possible
duplicates, screening with the suggested level, and the decisions (each confirmed first).
Reads through cases' selectors, writes through cases' services, the duplicate search through
the API's own search and budget (same audit, same throttle)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from accounts.models import Agency
from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.apis.base import _audit_read
from cases.apis.duplicates import _duplicates, _open_case_warnings, _person_of, _public, _search
from cases.apis.referrals import _referral_duplicates
from cases.matching import Person, query_fingerprint
from cases.models import IndicatorCode, Referral, Screening, Youth
from cases.permissions import can_decide_referral
from cases.selectors import duplicates as duplicate_selectors
from cases.selectors import visibility
from cases.services import referrals as referral_services
from cases.throttles import ALLOWED, duplicate_search_take, duplicate_search_take_once
from core.errors import ApplicationError

from ..forms import (
    CLOCK_FIELDS,
    AcceptForm,
    DuplicateOfForm,
    ReasonForm,
    ReferralIntakeForm,
    ScreeningForm,
    now_local_input,
)
from .common import api_request, page, render_page, require_case_role, signed_in_user

Action = AuditEvent.Action
#: The intake's duplicate report, kept for the referral page right after the create (shown once).
CREATED_DUPLICATES = "web_created_duplicates"
#: Too short a name is no search (and costs nothing from the budget).
MIN_NAME = 2


def _agency_choices() -> list[tuple[str, str]]:
    return [(a.code, f"{a.name} ({a.code})") for a in Agency.objects.filter(is_active=True).order_by("code")]


def _indicators() -> list[IndicatorCode]:
    return list(IndicatorCode.objects.filter(is_active=True).order_by("code"))


def _with_youth(request: HttpRequest, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visible candidates with what the person may see of them (name, date of birth);
    hidden ones stay an agency code."""
    ids = [item["youth"] for item in found if "youth" in item]
    youth = {y.pk: y for y in visibility.youth_list_visible_to(user=request.user).filter(pk__in=ids or [-1])}
    out = []
    for item in found:
        if "youth" in item:
            if item["youth"] in youth:
                out.append({"youth": youth[item["youth"]], "score": item["score"]})
        else:
            out.append(item)
    return out


@page(audit_object_type="youth_match")
def duplicate_check(request: HttpRequest) -> HttpResponse:
    """The live duplicate check of the intake form (htmx): the API's search, audited and
    throttled as `GET /api/v1/youth/matches/` is."""
    require_case_role(request)
    form = ReferralIntakeForm(request.GET, agencies=[], indicators=[])
    first = (request.GET.get("first_name") or "").strip()[:100]
    last = (request.GET.get("last_name") or "").strip()[:100]
    if len(first) < MIN_NAME or len(last) < MIN_NAME:
        return render_page(request, "web/referrals/duplicates.html", {"waiting": True})
    dob_field = form.fields["date_of_birth"]
    try:
        dob = dob_field.clean(request.GET.get("date_of_birth") or None)
    except Exception:
        dob = None
    budget = duplicate_search_take(user=request.user)
    if not budget.allowed:
        audit_record(
            actor=signed_in_user(request),
            action=Action.SEARCH,
            object_type="youth_match",
            outcome=AuditEvent.Outcome.DENIED,
            detail={"via": "matches", "within_budget": False},
        )
        return render_page(request, "web/referrals/duplicates.html", {"throttled": True})
    found = _duplicates(api_request(request), Person(first, last, dob, ()), via="matches", budget=ALLOWED)
    return render_page(request, "web/referrals/duplicates.html", {"matches": _with_youth(request, found)})


@page(methods=("GET", "POST"), audit_object_type="referral")
def referral_new(request: HttpRequest) -> HttpResponse:
    require_case_role(request)
    initial = {"received_at": now_local_input(), "receiving_agency": "DCFS"}
    form = ReferralIntakeForm(
        request.POST or None, initial=initial, agencies=_agency_choices(), indicators=_indicators()
    )
    status = 200
    if request.method == "POST" and "pick_youth" in request.POST:
        return _pick_youth(request)
    if request.method == "POST":
        if form.is_valid():
            try:
                referral, duplicates = _create(request, form)
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                request.session[CREATED_DUPLICATES] = {"referral": referral.pk, "items": duplicates}
                messages.success(request, f"Referral R-{referral.pk} is logged.")
                return HttpResponseRedirect(f"/app/referrals/{referral.pk}/")
        status = 400
    return render_page(request, "web/referrals/new.html", {"form": form}, nav="intake", status=status)


def _pick_youth(request: HttpRequest) -> HttpResponse:
    """The intake's "Use this record" button of a visible match (or "Enter a new youth" with an
    empty value): the form again, as typed, now naming that record — nothing is saved yet."""
    values: dict[str, Any] = {name: request.POST.get(name, "") for name in ReferralIntakeForm.base_fields}
    values["indicators"] = request.POST.getlist("indicators")
    picked = None
    raw = (request.POST.get("pick_youth") or "").strip()
    if raw:
        picked = (
            visibility.youth_list_visible_to(user=request.user).filter(pk=int(raw) if raw.isdigit() else -1).first()
        )
        if picked is None:
            raise Http404
        _audit_read(api_request(request), Action.VIEW, "youth", picked.pk, picked.pk)
    values["youth"] = picked.pk if picked else ""
    form = ReferralIntakeForm(initial=values, agencies=_agency_choices(), indicators=_indicators())
    return render_page(request, "web/referrals/new.html", {"form": form, "picked": picked}, nav="intake")


def _create(request: HttpRequest, form: ReferralIntakeForm) -> tuple[Referral, list[dict[str, Any]]]:
    """As `POST /api/v1/referrals/` does: one search of the budget for the create, the create
    by the service, then the possible duplicates of the youth it names."""
    data = form.cleaned_data
    existing = None
    if data.get("youth"):
        existing = visibility.youth_list_visible_to(user=request.user).filter(pk=data["youth"]).first()
        if existing is None:
            raise ApplicationError("Pick a youth record you may see.", fields={"youth": ["Not found."]})
    budget = duplicate_search_take(user=request.user)
    agency = Agency.objects.filter(code=data["receiving_agency"], is_active=True).first()
    referral = referral_services.referral_create(
        actor=signed_in_user(request),
        youth=existing,
        youth_data=None if existing else form.youth_data(),
        receiving_agency=agency,
        received_at=data["received_at"],
        source=data["source"],
        indicators=data.get("indicators") or [],
        narrative=data.get("narrative") or "",
        **{name: data.get(name) for name in CLOCK_FIELDS},
    )
    youth = Youth.objects.get(pk=referral.youth_id)
    found = _duplicates(
        api_request(request), _person_of(youth), via="referral_create", budget=budget, exclude=[youth.pk]
    )
    return referral, found


def _referral(request: HttpRequest, pk: int) -> Referral:
    require_case_role(request)
    return visibility.referral_get_visible(user=request.user, pk=pk)


def _screening(referral: Referral) -> Screening | None:
    try:
        return referral.screening
    except Screening.DoesNotExist:
        return None


@page(audit_object_type="referral")
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _referral(request, pk)
    _audit_read(api_request(request), Action.VIEW, "referral", referral.pk, referral.youth_id)
    youth = visibility.youth_get_visible(user=request.user, pk=referral.youth_id)
    _audit_read(api_request(request), Action.VIEW, "youth", youth.pk, youth.pk)
    decider = can_decide_referral(request.user, referral)
    undecided = referral.status in (Referral.Status.RECEIVED, Referral.Status.SCREENING)
    created = request.session.pop(CREATED_DUPLICATES, None)
    duplicates = None
    if created and created.get("referral") == referral.pk:
        duplicates = _with_youth(request, created["items"])
    else:
        # Whoever sees an undecided referral sees its youth's possible duplicates (SPEC §2), from
        # the API's own search, budget and audit (`GET /api/v1/referrals/{id}/`).
        found = _referral_duplicates(api_request(request), referral)
        duplicates = None if found is None else _with_youth(request, found)
    _mark_open_cases(duplicates or [])
    suggested = referral_services.suggested_level(indicators=referral.indicators, source=referral.source)
    labels = dict(IndicatorCode.objects.values_list("code", "label"))
    context = {
        "referral": referral,
        "youth": youth,
        "screening": _screening(referral),
        "indicators": [labels.get(code, code) for code in referral.indicators],
        "clocks": [(ReferralIntakeForm.base_fields[name].label, getattr(referral, name)) for name in CLOCK_FIELDS],
        "duplicates": duplicates,
        "decider": decider,
        "undecided": undecided,
        "suggested": dict(Screening.Level.choices).get(suggested, suggested),
        "screening_form": ScreeningForm(suggested=suggested) if decider and undecided else None,
    }
    return render_page(request, "web/referrals/detail.html", context)


def _mark_open_cases(duplicates: list[dict[str, Any]]) -> None:
    """A visible exact match with an open case is flagged: accepting without linking to it
    makes a second case for the same child (SPEC §2). One query, only when there is one."""
    exact = [m["youth"].pk for m in duplicates if "youth" in m and m["score"] >= duplicate_selectors.EXACT_SCORE]
    open_ids = duplicate_selectors.youth_ids_with_open_case(youth_ids=exact) if exact else set()
    for m in duplicates:
        m["open_case"] = "youth" in m and m["youth"].pk in open_ids


@page(methods=("POST",), audit_object_type="referral")
def referral_screen(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _referral(request, pk)
    suggested = referral_services.suggested_level(indicators=referral.indicators, source=referral.source)
    form = ScreeningForm(request.POST, suggested=suggested)
    if form.is_valid():
        try:
            referral_services.referral_screen(referral=referral, actor=signed_in_user(request), **form.cleaned_data)
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, "The screening is recorded.")
            return HttpResponseRedirect(f"/app/referrals/{pk}/")
    return render_page(request, "web/referrals/screen_invalid.html", {"referral": referral, "form": form}, status=400)


DECISIONS = {
    "accept": (
        "Accept the referral",
        "Accepting opens a case for the youth with your agency as lead, or links the referral to the youth's open case (another agency's open case is asked to be shared).",
    ),
    "decline": (
        "Decline the referral",
        "Declining closes the clocks that can no longer be met; the reporting duties of the law stay open.",
    ),
    "mark-duplicate": (
        "Mark the referral as a duplicate",
        "The referral is kept, marked as repeating another; its open clocks are closed where the original has them open.",
    ),
}


@page(methods=("GET", "POST"), audit_object_type="referral")
def referral_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """The confirmation step of a decision (GET), then the decision itself (POST)."""
    if decision not in DECISIONS:
        raise Http404
    referral = _referral(request, pk)
    if not can_decide_referral(request.user, referral):
        raise ApplicationError("Only supervisors of the receiving agency decide a referral.", code="forbidden")
    form: Any = None
    context: dict[str, Any] = {}
    if decision == "accept":
        # an accept may send nothing at all (no choice of record): still a bound, valid form
        form = AcceptForm(request.POST if request.method == "POST" else None)
    elif decision == "decline":
        form = ReasonForm(request.POST or None)
    elif decision == "mark-duplicate":
        form = DuplicateOfForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form is None or form.is_valid():
            try:
                _decide(request, referral, decision, form)
            except ApplicationError as exc:
                if exc.code != "invalid" or form is None:
                    raise
                form.add_service_error(exc)
            else:
                referral = visibility.referral_get_visible(user=request.user, pk=pk)
                messages.success(request, f"Referral R-{pk}: {referral.get_status_display().lower()}.")
                if decision == "accept" and not form.cleaned_data.get("youth"):
                    for warning in _accept_warnings(request, referral):
                        messages.warning(request, warning)
                if referral.case_id:
                    return HttpResponseRedirect(f"/app/cases/{referral.case_id}/")
                return HttpResponseRedirect(f"/app/referrals/{pk}/")
        status = 400
    if decision == "accept":
        context = _accept_choices(request, referral, form)
    title, explanation = DECISIONS[decision]
    context.update(
        {"referral": referral, "form": form, "decision": decision, "title": title, "explanation": explanation}
    )
    return render_page(request, "web/referrals/decide.html", context, status=status)


def _accept_choices(request: HttpRequest, referral: Referral, form: AcceptForm) -> dict[str, Any]:
    """The accept step's choice of record: the referral's own, or a visible possible duplicate
    (the detail's search: same budget key, audited as a search), and the warning of an exact
    match with an open case — visible or held by another agency (SPEC §2)."""
    youth = referral.youth
    person = _person_of(youth)
    budget = duplicate_search_take_once(user=request.user, key=f"youth:{youth.pk}:{query_fingerprint(person)}")
    found = _search(api_request(request), person, via="referral_detail", budget=budget, exclude=[youth.pk])
    candidates = [m["youth"] for m in _with_youth(request, _public(found)) if "youth" in m]
    choices = AcceptForm(own=youth, candidates=candidates).fields["youth"].widget.choices
    form.fields["youth"].widget.choices = choices
    return {"warnings": [w["detail"] for w in _warning_lines(_open_case_warnings(found))], "candidates": candidates}


def _warning_lines(warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for w in warnings:
        who = f"Record Y-{w['youth']}" if "youth" in w else f"A record held by {w['agency']}"
        out.append({**w, "detail": f"{who}: {w['detail']}"})
    return out


def _accept_warnings(request: HttpRequest, referral: Referral) -> list[str]:
    """As `POST .../accept/` answers `warnings` when no record was chosen: the exact possible
    duplicates with an open case (its search, via `referral_accept`, not from the budget)."""
    youth = referral.youth
    found = _search(api_request(request), _person_of(youth), via="referral_accept", budget=ALLOWED, exclude=[youth.pk])
    return [w["detail"] for w in _warning_lines(_open_case_warnings(found))]


def _decide(request: HttpRequest, referral: Referral, decision: str, form: Any) -> None:
    if decision == "accept":
        chosen = None
        if form.cleaned_data.get("youth"):
            # A record the supervisor may not see answers as one that does not exist (SPEC §1).
            chosen = visibility.youth_list_visible_to(user=request.user).filter(pk=form.cleaned_data["youth"]).first()
            if chosen is None:
                raise ApplicationError("Unknown youth.", fields={"youth": ["Choose a youth record you may see."]})
        referral_services.referral_accept(referral=referral, actor=signed_in_user(request), youth=chosen)
    elif decision == "decline":
        referral_services.referral_decline(
            referral=referral, actor=signed_in_user(request), reason=form.cleaned_data["reason"]
        )
    else:
        original = None
        if form.cleaned_data.get("duplicate_of"):
            original = (
                visibility.referral_list_visible_to(user=request.user)
                .filter(pk=form.cleaned_data["duplicate_of"])
                .first()
            )
            if original is None:
                raise ApplicationError(
                    "Unknown referral.", fields={"duplicate_of": ["No referral you may see has that number."]}
                )
        referral_services.referral_mark_duplicate(
            referral=referral, actor=signed_in_user(request), duplicate_of=original
        )
