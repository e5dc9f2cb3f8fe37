"""The case page (issue 15 §6) and its actions, and finding a case. Each section is read
through the selector its API list uses and audited as that list is (CasePartListApi); every
action is the service the API calls."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from accounts.models import Agency
from accounts.selectors import user_list_visible_to
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from cases.apis.base import _audit_read, _audit_rows
from cases.models import Case, CaseAgency
from cases.permissions import CaseAccess
from cases.selectors import history as history_selectors
from cases.selectors import parts as part_selectors
from cases.selectors import visibility
from cases.services import cases as case_services
from cases.services import missing_episodes as episode_services
from cases.services import notes as note_services
from cases.services import sharing
from core.errors import ApplicationError
from core.permissions import CASE_ROLES

from ..forms import (
    EpisodeReturnForm,
    FindCaseForm,
    GrantForm,
    MissingEpisodeForm,
    NoteForm,
    ReasonForm,
    RenewForm,
    TeamMemberForm,
)
from .common import api_request, page, render_page, require_case_role, signed_in_user
from .part_forms import parts_context

Action = AuditEvent.Action
FIND_ROWS = 50


def _case(request: HttpRequest, pk: int) -> tuple[Case, CaseAccess]:
    require_case_role(request)
    case = visibility.case_get_visible(user=request.user, pk=pk)
    return case, visibility.case_access(user=request.user, case=case)


def _audit_parts(request: HttpRequest, case: Case, object_type: str, rows: list[Any]) -> list[Any]:
    """As CasePartListApi lists a case's parts: one `list` event of the rows shown, each with the
    case's youth; an empty list still a read of the case."""
    empty = AuditEntry(Action.LIST, object_type, "", case.youth_id, detail={"case": case.pk, "count": 0})
    _audit_rows(api_request(request), object_type, rows, lambda row: case.youth_id, empty=empty)
    return rows


def _agency_choices(exclude: set[int]) -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in Agency.objects.filter(is_active=True).order_by("code") if a.pk not in exclude]


def _team_choices(request: HttpRequest, case: Case, on_team: set[int]) -> list[tuple[str, str]]:
    people = user_list_visible_to(user=request.user).filter(is_active=True, role__in=list(CASE_ROLES))
    return [
        (str(u.pk), f"{u.get_full_name() or u.username} ({u.role.replace('_', ' ')})")
        for u in people
        if u.pk not in on_team
    ]


def case_context(request: HttpRequest, case: Case, access: CaseAccess, **forms: Any) -> dict[str, Any]:
    """Everything the case page shows, each read audited as the API's read of it is."""
    _audit_read(api_request(request), Action.VIEW, "case", case.pk, case.youth_id)
    alerts = _audit_parts(request, case, "safety_alert", list(part_selectors.safety_alert_list(case=case)))
    team = _audit_parts(request, case, "case_team_member", list(part_selectors.case_team_list(case=case)))
    participations = _audit_parts(request, case, "case_agency", list(part_selectors.case_agency_list(case=case)))
    notes = _audit_parts(
        request,
        case,
        "note",
        list(visibility.note_list_visible_to(user=request.user, case=case).select_related("author_agency", "author")),
    )
    episodes = _audit_parts(request, case, "missing_episode", list(part_selectors.missing_episode_list(case=case)))
    placements = _audit_parts(request, case, "placement", list(part_selectors.placement_list(case=case)))
    services = _audit_parts(
        request, case, "service_referral", list(part_selectors.service_referral_list(user=request.user, case=case))
    )
    hearings = _audit_parts(request, case, "court_hearing", list(part_selectors.court_hearing_list(case=case)))
    timeline = history_selectors.case_timeline(user=request.user, case=case)
    _audit_read(api_request(request), Action.VIEW, "case_timeline", case.pk, case.youth_id)
    share_requests: list[Any] = []
    if access.can_manage_agencies:
        share_requests = list(visibility.share_request_awaiting(user=request.user).filter(case_id=case.pk))
        if share_requests:
            _audit_rows(api_request(request), "share_request", share_requests, lambda row: case.youth_id)
    youth = case.youth
    open_ = case.status == Case.Status.OPEN
    participating = {p.agency_id for p in participations if sharing.is_active(p)}
    context: dict[str, Any] = {
        "case": case,
        "access": access,
        "initials": f"{youth.first_name[:1]}.{youth.last_name[:1]}.",
        "active_alerts": [a for a in alerts if a.is_active],
        "alerts": alerts,
        "team": team,
        "participations": [{"p": p, "active": sharing.is_active(p)} for p in participations],
        "share_requests": share_requests,
        "notes": notes,
        "episodes": episodes,
        "open_episodes": [e for e in episodes if e.returned_at is None],
        "placements": placements,
        "services": services,
        "hearings": hearings,
        "timeline": timeline,
        "is_open": open_,
        "note_form": forms.get("note_form") or NoteForm(clinical=access.can_write_clinical),
    }
    # Each episode's return and debrief, its form filled with what is recorded; on a closed case
    # too (its reports and debrief still meet the law's clocks, SPEC §2).
    people = _debriefers(request, team)
    names = {pk: name for pk, name in people}
    context.update(
        parts_context(
            request,
            access=access,
            is_open=open_,
            alerts=alerts,
            placements=placements,
            services=services,
            hearings=hearings,
            names={int(pk): name for pk, name in people},
            forms=forms,
        )
    )
    failed = forms.get("return_form")
    context["return_form"] = failed
    context["episode_rows"] = [
        {
            "e": e,
            "debriefer": names.get(str(e.debriefed_by_id), f"user {e.debriefed_by_id}") if e.debriefed_by_id else "",
            "missing": [DEBRIEF_WORDS.get(part, part) for part in e.debrief_missing] if e.returned_at else [],
            "form": failed
            if failed is not None and failed.prefix == f"return{e.pk}"
            else EpisodeReturnForm(prefix=f"return{e.pk}", people=people, initial=EpisodeReturnForm.initial_of(e)),
        }
        for e in episodes
    ]
    if open_:
        context["episode_form"] = forms.get("episode_form") or MissingEpisodeForm(prefix="episode")
        if access.can_manage_agencies:
            context["grant_form"] = forms.get("grant_form") or GrantForm(
                prefix="grant", agencies=_agency_choices(participating | {case.lead_agency_id})
            )
        if access.is_supervisor:
            on_team = {m.user_id for m in team}
            context["team_form"] = forms.get("team_form") or TeamMemberForm(
                prefix="team", people=_team_choices(request, case, on_team)
            )
        if access.can_close_case:
            context["close_form"] = forms.get("close_form") or ReasonForm(prefix="close")
    elif access.can_close_case:
        context["reopen_form"] = forms.get("reopen_form") or ReasonForm(prefix="reopen")
    return context


DEBRIEF_WORDS = {
    "return_debrief_at": "when it was held",
    "debriefed_by": "who held it",
    "absence_factors": "why the youth left",
    "experiences_while_absent": "what happened while away",
    "exploited_while_absent": "whether the youth was exploited",
    "return_screening": "the screening on return",
}


def _debriefers(request: HttpRequest, team: list[Any]) -> list[tuple[str, str]]:
    """Who may be named as having held the debrief: the case team and the person recording it
    (the service checks each works the case)."""
    people = {m.user_id: m.user for m in team if m.user.is_active}
    people.setdefault(request.user.pk, request.user)
    return [
        (str(pk), f"{u.get_full_name() or u.username}{' (you)' if pk == request.user.pk else ''}")
        for pk, u in people.items()
    ]


@page(audit_object_type="case")
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    return render_page(request, "web/cases/detail.html", case_context(request, case, access))


def _back(case: Case, anchor: str) -> HttpResponse:
    return HttpResponseRedirect(f"/app/cases/{case.pk}/#{anchor}")


def _invalid(request: HttpRequest, case: Case, access: CaseAccess, **forms: Any) -> HttpResponse:
    return render_page(request, "web/cases/detail.html", case_context(request, case, access, **forms), status=400)


@page(methods=("POST",), audit_object_type="note")
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = NoteForm(request.POST, clinical=access.can_write_clinical)
    if form.is_valid():
        try:
            note_services.case_note_add(
                case=case,
                actor=signed_in_user(request),
                body=form.cleaned_data["body"],
                visibility=form.cleaned_data["visibility"],
            )
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, "The note is added.")
            return _back(case, "notes")
    return _invalid(request, case, access, note_form=form)


@page(methods=("POST",), audit_object_type="missing_episode")
def episode_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = MissingEpisodeForm(request.POST, prefix="episode")
    if form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            episode_services.missing_episode_create(case=case, actor=signed_in_user(request), **values)
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, "The missing episode is recorded; its 24-hour clocks are running.")
            return _back(case, "missing")
    return _invalid(request, case, access, episode_form=form)


@page(methods=("POST",), audit_object_type="missing_episode")
def episode_return(request: HttpRequest, pk: int, episode_id: int) -> HttpResponse:
    case, access = _case(request, pk)
    episode = visibility.missing_episode_get_visible(user=request.user, pk=episode_id)
    if episode.case_id != case.pk:
        raise Http404
    team = list(part_selectors.case_team_list(case=case))
    people = _debriefers(request, team)
    form = EpisodeReturnForm(request.POST, prefix=f"return{episode.pk}", people=people)
    if form.is_valid():
        users = {m.user_id: m.user for m in team}
        me = signed_in_user(request)
        users[me.pk] = me
        data = _changed_only(episode, form.service_data(users))
        try:
            episode_services.missing_episode_update(episode=episode, actor=me, data=data)
        except ApplicationError as exc:
            if exc.code not in ("invalid", "conflict"):
                raise
            form.add_service_error(exc, field_map=RETURN_FIELD_MAP)
        else:
            missing = part_selectors.missing_episode_list(case=case).get(pk=episode.pk).debrief_missing
            if missing:
                messages.success(
                    request,
                    "The return is recorded. The debrief still needs: "
                    + ", ".join(DEBRIEF_WORDS.get(p, p) for p in missing)
                    + ".",
                )
            else:
                messages.success(request, "The return debrief is recorded as a whole; its 72-hour clock is met.")
            return _back(case, f"episode-{episode.pk}")
    return _invalid(request, case, access, return_form=form)


#: The service's field names under the return screening, on the form's own fields.
RETURN_FIELD_MAP = {
    "return_screening.level": "screening_level",
    "return_screening.instrument": "screening_instrument",
    "return_screening.screened_at": "screened_at",
    "return_screened_at": "screened_at",
    "return_screening": "screening_level",
}


def _changed_only(episode: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A time shown to the minute and sent back unchanged is not a change (the stored one may
    carry seconds): only what the person altered goes to the service."""
    out = {}
    for name, value in data.items():
        stored = getattr(episode, name, None)
        if (
            hasattr(stored, "replace")
            and hasattr(value, "tzinfo")
            and stored is not None
            and stored.replace(second=0, microsecond=0) == value
        ):
            continue
        out[name] = value
    return out


@page(methods=("POST",), audit_object_type="case_agency")
def agency_grant(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = GrantForm(request.POST, prefix="grant", agencies=_agency_choices(set()))
    if form.is_valid():
        agency = Agency.objects.get(code=form.cleaned_data["agency"])
        try:
            case_services.case_agency_grant(
                case=case,
                actor=signed_in_user(request),
                agency=agency,
                legal_basis=form.cleaned_data["legal_basis"],
                expires_at=form.cleaned_data.get("expires_at"),
                good_cause=form.cleaned_data.get("good_cause") or "",
            )
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, f"The case is shared with {agency.code}.")
            return _back(case, "sharing")
    return _invalid(request, case, access, grant_form=form)


def _participation(case: Case, code: str) -> CaseAgency:
    try:
        return part_selectors.case_agency_get(case=case, agency_code=code)
    except Exception as exc:
        raise Http404 from exc


@page(methods=("POST",), audit_object_type="case_agency")
def agency_renew(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    case, _ = _case(request, pk)
    participation = _participation(case, code)
    form = RenewForm(request.POST)
    form.is_valid()
    case_services.case_agency_renew(
        participation=participation, actor=signed_in_user(request), good_cause=form.cleaned_data.get("good_cause") or ""
    )
    messages.success(request, f"Sharing with {participation.agency.code} is renewed.")
    return _back(case, "sharing")


@page(methods=("POST",), audit_object_type="case_agency")
def agency_revoke(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    case, _ = _case(request, pk)
    participation = _participation(case, code)
    case_services.case_agency_revoke(participation=participation, actor=signed_in_user(request))
    messages.success(request, f"Sharing with {participation.agency.code} is revoked.")
    return _back(case, "sharing")


@page(methods=("POST",), audit_object_type="share_request")
def share_request_decide(request: HttpRequest, pk: int, request_id: int, decision: str) -> HttpResponse:
    case, access = _case(request, pk)
    share_request = visibility.share_request_get_visible(user=request.user, pk=request_id)
    if share_request.case_id != case.pk or decision not in ("approve", "decline"):
        raise Http404
    if decision == "approve":
        form: Any = GrantForm(request.POST, prefix=f"sr{request_id}", agencies=[(share_request.agency.code, "")])
        form.fields["agency"].required = False
        if form.is_valid():
            sharing.share_request_approve(
                share_request=share_request,
                actor=signed_in_user(request),
                legal_basis=form.cleaned_data["legal_basis"],
                expires_at=form.cleaned_data.get("expires_at"),
                good_cause=form.cleaned_data.get("good_cause") or "",
            )
            messages.success(request, f"The case is shared with {share_request.agency.code}.")
            return _back(case, "sharing")
    else:
        form = ReasonForm(request.POST, prefix=f"sr{request_id}")
        if form.is_valid():
            sharing.share_request_decline(
                share_request=share_request, actor=signed_in_user(request), reason=form.cleaned_data["reason"]
            )
            messages.success(request, "The share request is declined.")
            return _back(case, "sharing")
    raise ApplicationError("Choose a legal basis, or give a reason to decline.")


@page(methods=("POST",), audit_object_type="case_team_member")
def team_add(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    on_team = {m.user_id for m in part_selectors.case_team_list(case=case)}
    form = TeamMemberForm(request.POST, prefix="team", people=_team_choices(request, case, on_team))
    if form.is_valid():
        member = user_list_visible_to(user=request.user).get(pk=int(form.cleaned_data["user"]))
        try:
            case_services.case_team_member_add(
                case=case, actor=signed_in_user(request), user=member, case_role=form.cleaned_data["case_role"]
            )
        except ApplicationError as exc:
            if exc.code != "invalid":
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, "The team is updated.")
            return _back(case, "team")
    return _invalid(request, case, access, team_form=form)


@page(methods=("POST",), audit_object_type="case")
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = ReasonForm(request.POST, prefix="close")
    if form.is_valid():
        try:
            case_services.case_close(case=case, actor=signed_in_user(request), reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            # a refusal the form can explain (a missing episode still open; a blank reason) is
            # shown on it; who may not close hears 403 as from the API
            if exc.code not in ("invalid", "conflict") or case.status != Case.Status.OPEN:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, "The case is closed. It takes notes only; a supervisor can reopen it.")
            return _back(case, "summary")
    return _invalid(request, case, access, close_form=form)


@page(methods=("POST",), audit_object_type="case")
def case_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    case, access = _case(request, pk)
    form = ReasonForm(request.POST, prefix="reopen")
    if form.is_valid():
        try:
            case_services.case_reopen(case=case, actor=signed_in_user(request), reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            if exc.code not in ("invalid", "conflict") or case.status != Case.Status.CLOSED:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, "The case is open again.")
            return _back(case, "summary")
    return _invalid(request, case, access, reopen_form=form)


@page(audit_object_type="case")
def case_find(request: HttpRequest) -> HttpResponse:
    """Find a case by its number, or by a youth's name among the cases the user may see."""
    require_case_role(request)
    form = FindCaseForm(request.GET or None)
    results: list[Case] | None = None
    if form.is_bound and form.is_valid():
        q = form.cleaned_data["q"].strip()
        cases = visibility.case_list_visible_to(user=request.user).select_related("youth")
        by_number = list(cases.filter(number__iexact=q)[:1])
        if by_number:
            results = by_number
        else:
            # Names are encrypted: compared through their blind index (equality, case-folded).
            from cases.crypto import blind_index

            results = _by_name(cases, blind_index(q))
        _audit_rows(api_request(request), "case", results, lambda row: row.youth_id)
    return render_page(request, "web/cases/find.html", {"form": form, "results": results}, nav="find")


def _by_name(cases: Any, key: str) -> list[Case]:
    from django.db.models import Q

    return list(cases.filter(Q(youth__first_name_bidx=key) | Q(youth__last_name_bidx=key))[:FIND_ROWS])
