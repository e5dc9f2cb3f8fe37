"""Every read of youth, referrals, cases and their parts — and the ONE place that decides who
sees what (SPEC §1).

- case worker: the cases whose team they are on (while their agency leads or participates),
  the referrals they created and the referrals of those cases, the youth of all of these and
  the youth records they created;
- supervisor: every case their agency leads or participates in (an unexpired, unrevoked
  participation), every referral their agency referred or receives plus the referrals of those
  cases, the youth of all of these and the youth records their agency holds;
- MDT members, agency and system admins and auditors: nothing (the MDT agenda view is the MDT
  app's, and it reads cases by id through its own rules).

Lists, filters, searches, details, nested paths, timelines, histories, exports and background
tasks all start from these querysets, so filtering on a field of a hidden object can only ever
narrow a set of visible objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.permissions import CASE_ROLES, Role, role_of

from . import matching
from .crypto import blind_index
from .models import (
    Case,
    CaseAgency,
    CaseTeamMember,
    CourtHearing,
    IndicatorCode,
    MissingEpisode,
    Note,
    Placement,
    Referral,
    SafetyAlert,
    Screening,
    ServiceReferral,
    ShareRequest,
    Youth,
    YouthExternalId,
    YouthSearchKey,
)
from .permissions import CaseAccess, is_clinical_user


def _case_role(user: Any) -> str | None:
    role = role_of(user)
    if role not in CASE_ROLES or not getattr(user, "agency_id", None):
        return None
    return role


# --- cases ---------------------------------------------------------------------------------------


def participation_active_q(*, now: dt.datetime | None = None, prefix: str = "") -> Q:
    """An unrevoked participation whose expiry (if any) has not passed: compared with now() at
    query time, so an expired grant stops access at once, without a job."""
    now = now or timezone.now()
    return Q(**{f"{prefix}revoked_at__isnull": True}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def _agency_case_ids(agency_id: int) -> QuerySet:
    """The ids of the cases an agency leads or participates in, as a UNION of two indexed id
    sets. `lead OR id IN (participations)` cannot use an index: PostgreSQL turns the OR across a
    subquery into a hashed SubPlan and reads every case (EXPLAIN: Seq Scan on cases_case)."""
    led = Case.objects.filter(lead_agency_id=agency_id).order_by().values("id")
    participating = (
        CaseAgency.objects.filter(participation_active_q(), agency_id=agency_id).order_by().values("case_id")
    )
    return led.union(participating)


def case_ids_visible_to(*, user: Any) -> QuerySet:
    """A subquery of the ids of the cases `user` may see (for `id__in=` / `case_id__in=`)."""
    role = _case_role(user)
    if role is None:
        return Case.objects.none().values("id")
    if role == Role.SUPERVISOR:
        return _agency_case_ids(user.agency_id)
    # A case worker: start from their own team rows (index on user) and keep those whose case
    # their agency leads or participates in — two indexed look-ups per team row, UNIONed. An OR
    # of the two would hash every participation of the agency and every case instead.
    team = CaseTeamMember.objects.filter(user_id=user.pk, removed_at__isnull=True).order_by()
    led = team.filter(case__lead_agency_id=user.agency_id).values("case_id")
    participates = CaseAgency.objects.filter(
        participation_active_q(), case_id=OuterRef("case_id"), agency_id=user.agency_id
    )
    return led.union(team.filter(Exists(participates)).values("case_id"))


def _agency_case_q(agency_id: int) -> Q:
    """ "The agency leads the case or participates in it", as a filter on Case rows."""
    participates = CaseAgency.objects.filter(participation_active_q(), case_id=OuterRef("pk"), agency_id=agency_id)
    return Q(lead_agency_id=agency_id) | Exists(participates)


def case_list_visible_to(*, user: Any) -> QuerySet[Case]:
    role = _case_role(user)
    if role is None:
        return Case.objects.none()
    if role == Role.SUPERVISOR:
        # A supervisor sees most of the agency's cases: filtering the cases themselves lets a
        # page walk the primary key backwards and stop after 50 rows (0.15 ms at county scale),
        # where `id IN (the agency's case ids)` first gathered and sorted all ~11,000 (23 ms).
        cases = Case.objects.filter(_agency_case_q(user.agency_id))
    else:
        cases = Case.objects.filter(id__in=case_ids_visible_to(user=user))
    return cases.select_related("lead_agency").order_by("-id")


def _with_access(qs: QuerySet[Case], user: Any) -> QuerySet[Case]:
    return qs.annotate(
        _on_team=Exists(CaseTeamMember.objects.filter(case_id=OuterRef("pk"), user_id=user.pk, removed_at__isnull=True))
    )


def case_get_visible(*, user: Any, pk: Any) -> Case:
    """The case, or Http404 when it does not exist or `user` may not see it (one query)."""
    try:
        return _with_access(case_list_visible_to(user=user), user).get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def case_access(*, user: Any, case: Case) -> CaseAccess:
    on_team = getattr(case, "_on_team", None)
    if on_team is None:
        on_team = CaseTeamMember.objects.filter(case_id=case.pk, user_id=user.pk, removed_at__isnull=True).exists()
    return CaseAccess(user=user, case=case, on_team=bool(on_team), agency_is_lead=case.lead_agency_id == user.agency_id)


def agency_participates(*, case: Case, agency_id: int) -> bool:
    if case.lead_agency_id == agency_id:
        return True
    return CaseAgency.objects.filter(participation_active_q(), case_id=case.pk, agency_id=agency_id).exists()


# --- referrals -----------------------------------------------------------------------------------


def _referral_id_sets(user: Any, role: str) -> list[QuerySet]:
    """The indexed id sets whose union is what `user` may see of referrals (see the module
    docstring). Kept apart, not ORed: an OR across them forces a scan of every referral."""
    plain = Referral.objects.order_by()
    of_cases = plain.filter(case_id__in=case_ids_visible_to(user=user)).values("id")
    if role == Role.SUPERVISOR:
        return [
            plain.filter(referring_agency_id=user.agency_id).values("id"),
            plain.filter(receiving_agency_id=user.agency_id).values("id"),
            of_cases,
        ]
    return [plain.filter(created_by_id=user.pk).values("id"), of_cases]


def _referral_ids_visible_to(user: Any, role: str) -> QuerySet:
    first, *rest = _referral_id_sets(user, role)
    return first.union(*rest)


def referral_list_visible_to(*, user: Any) -> QuerySet[Referral]:
    role = _case_role(user)
    if role is None:
        return Referral.objects.none()
    return (
        Referral.objects.filter(id__in=_referral_ids_visible_to(user, role))
        .select_related("referring_agency", "receiving_agency")
        .order_by("-id")
    )


def referral_get_visible(*, user: Any, pk: Any) -> Referral:
    try:
        return referral_list_visible_to(user=user).select_related("screening").get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- youth ---------------------------------------------------------------------------------------


def youth_ids_visible_to(*, user: Any) -> QuerySet:
    """The youth of the visible referrals and cases, and the records the user (a supervisor:
    the agency) holds — a UNION of indexed id sets, for the same reason as the referrals."""
    role = _case_role(user)
    if role is None:
        return Youth.objects.none().values("id")
    by_referral = Referral.objects.filter(id__in=_referral_ids_visible_to(user, role)).order_by().values("youth_id")
    by_case = Case.objects.filter(id__in=case_ids_visible_to(user=user)).order_by().values("youth_id")
    held = Youth.objects.order_by()
    held = (
        held.filter(holding_agency_id=user.agency_id) if role == Role.SUPERVISOR else held.filter(created_by_id=user.pk)
    )
    return by_referral.union(by_case, held.values("id"))


def youth_list_visible_to(*, user: Any) -> QuerySet[Youth]:
    if _case_role(user) is None:
        return Youth.objects.none()
    return Youth.objects.filter(id__in=youth_ids_visible_to(user=user)).order_by("id")


def youth_get_visible(*, user: Any, pk: Any) -> Youth:
    try:
        return youth_list_visible_to(user=user).select_related("holding_agency").get(pk=pk)
    except (Youth.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def youth_ids_visible_among(*, user: Any, ids: list[int]) -> set[int]:
    """Which of these (few) youth ids the user may see: the duplicate search's visibility check,
    by the same rule as youth_ids_visible_to, asked of the candidates only with correlated
    EXISTS (indexes on referral.youth_id and case.youth_id) instead of computing every youth
    the user may see to judge a handful."""
    role = _case_role(user)
    if role is None:
        return set()
    cases = case_ids_visible_to(user=user)
    if role == Role.SUPERVISOR:
        of_referral = Q(referring_agency_id=user.agency_id) | Q(receiving_agency_id=user.agency_id)
        own = Q(holding_agency_id=user.agency_id)
    else:
        of_referral = Q(created_by_id=user.pk)
        own = Q(created_by_id=user.pk)
    visible = (
        own
        | Exists(Referral.objects.filter(of_referral | Q(case_id__in=cases), youth_id=OuterRef("pk")))
        | Exists(Case.objects.filter(id__in=cases, youth_id=OuterRef("pk")))
    )
    # Asked even with no candidate: a hidden match and no match must cost the same queries.
    return set(Youth.objects.filter(id__in=list(ids) or [-1]).filter(visible).values_list("id", flat=True))


def youth_ids_holding_external_ids(*, external_ids: Iterable[tuple[int, str]]) -> list[int | None]:
    """For each (agency id, number) pair, the youth record that already holds it, or None —
    looked up by the number's blind index, as the uniqueness rule is (one query). The caller
    shapes the answer: a record it may not see is a hidden duplicate (its agency only), never
    "that number is in use"."""
    pairs = [(agency_id, blind_index(str(value).strip())) for agency_id, value in external_ids]
    wanted = Q(pk__in=[])
    for agency_id, bidx in pairs:
        wanted |= Q(agency_id=agency_id, value_bidx=bidx)
    held = {
        (agency_id, bidx): youth_id
        for agency_id, bidx, youth_id in YouthExternalId.objects.filter(wanted).values_list(
            "agency_id", "value_bidx", "youth_id"
        )
    }
    return [held.get(pair) for pair in pairs]


def youth_agencies_to_ask(*, youth_ids: Iterable[int]) -> dict[int, list[str]]:
    """SPEC §2: the agency named for a hidden candidate is the one to ask — the lead agency of
    the youth's open case (each, if several), else the agency holding the record. Two queries
    whatever the ids (none included), so a hidden match costs what no match costs."""
    ids = sorted(set(youth_ids))
    leads: dict[int, set[str]] = {}
    for youth_id, code in Case.objects.filter(youth_id__in=ids or [-1], status=Case.Status.OPEN).values_list(
        "youth_id", "lead_agency__code"
    ):
        leads.setdefault(youth_id, set()).add(code)
    holders = dict(Youth.objects.filter(id__in=ids or [-1]).values_list("id", "holding_agency__code"))
    return {yid: sorted(leads.get(yid) or {holders[yid]}) for yid in ids if yid in holders or yid in leads}


def youth_possible_duplicates(
    *,
    user: Any,
    person: matching.Person,
    exclude_ids: Iterable[int] = (),
    report_hidden: bool = True,
    hidden_also: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """Ranked possible duplicates of `person`: `{"youth": id, "score": s}` for candidates the
    user may see (scored as ever), `{"agency": code}` (distinct, sorted) for the agencies to ask
    about candidates the user may not see. Each dict also carries `_youth_id` / `_youth_ids`
    (for the audit log; the API strips them).

    The search is not an oracle (SPEC §2): a hidden candidate is reported only when name and
    date of birth both agree strongly (`matching.agrees_strongly`), or when it holds an external
    id the caller sent (`hidden_also`: the records found by `youth_ids_holding_external_ids`),
    and only while the caller's search budget lasts (`report_hidden`). The agency named is the
    lead of its open case, else its holder (`youth_agencies_to_ask`).

    Candidates are narrowed by blind-indexed search keys in SQL; only those few rows are
    decrypted. The same queries run whether a candidate is visible, hidden or absent, and a
    hidden candidate adds nothing but its agency line.
    """
    keys = [
        key
        for _, key in matching.search_keys(
            first_name=person.first_name,
            last_name=person.last_name,
            date_of_birth=person.date_of_birth,
            aliases=person.aliases,
        )
    ]
    exclude = list(exclude_ids)
    ranked = (
        YouthSearchKey.objects.filter(key__in=keys or [""])
        .exclude(youth_id__in=exclude)
        .values("youth_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "youth_id")[: matching.MAX_CANDIDATES]
    )
    candidate_ids = [row["youth_id"] for row in ranked]
    also = [yid for yid in hidden_also if yid not in exclude]
    candidates = list(
        Youth.objects.filter(id__in=sorted({*candidate_ids, *also}) or [-1])
        .select_related("merged_into")
        .only(
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "aliases",
            "merged_into_id",
            "merged_into__id",
        )
    )
    # holder id -> (best score, agrees strongly or holds a number sent)
    best: dict[int, tuple[float, bool]] = {}
    for youth in candidates:
        found = matching.Person(youth.first_name, youth.last_name, youth.date_of_birth, tuple(youth.aliases or ()))
        score = matching.match_score(person, found)
        strong = youth.pk in also or matching.agrees_strongly(person, found)
        if score < matching.MATCH_THRESHOLD and not strong:
            continue
        # A record merged into another stands for the record it was merged into.
        holder = youth.merged_into if youth.merged_into_id else youth
        if holder.pk in exclude:
            continue
        was_score, was_strong = best.get(holder.pk, (0.0, False))
        best[holder.pk] = (max(was_score, score), was_strong or strong)
    visible = youth_ids_visible_among(user=user, ids=list(best))
    shown = sorted(
        (
            {"youth": yid, "score": score, "_youth_id": yid}
            for yid, (score, _) in best.items()
            if yid in visible and score >= matching.MATCH_THRESHOLD
        ),
        key=lambda c: (-c["score"], c["youth"]),
    )
    hidden_ids = [yid for yid, (_, strong) in best.items() if yid not in visible and strong and report_hidden]
    # Asked even with nothing hidden (or nothing to report): the same queries either way.
    to_ask = youth_agencies_to_ask(youth_ids=hidden_ids)
    hidden_agencies: dict[str, list[int]] = {}
    for yid in hidden_ids:
        for code in to_ask.get(yid, ()):
            hidden_agencies.setdefault(code, []).append(yid)
    hidden = [{"agency": code, "_youth_ids": sorted(ids)} for code, ids in sorted(hidden_agencies.items())]
    return shown + hidden


# --- parts of a case -------------------------------------------------------------------------------


def note_visibility_q(*, user: Any) -> Q:
    """team: everyone who sees the case; agency: the author's agency; clinical: DMH users only."""
    q = Q(visibility=Note.Visibility.TEAM) | Q(visibility=Note.Visibility.AGENCY, author_agency_id=user.agency_id)
    if is_clinical_user(user):
        q |= Q(visibility=Note.Visibility.CLINICAL)
    return q


def note_list_visible_to(*, user: Any, case: Case) -> QuerySet[Note]:
    return Note.objects.filter(note_visibility_q(user=user), case_id=case.pk).order_by("-id")


def note_get_visible(*, user: Any, case: Case, pk: Any) -> Note:
    try:
        return note_list_visible_to(user=user, case=case).get(pk=pk)
    except (Note.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def case_team_list(*, case: Case, include_removed: bool = False) -> QuerySet[CaseTeamMember]:
    qs = CaseTeamMember.objects.filter(case_id=case.pk).select_related("user__agency").order_by("id")
    return qs if include_removed else qs.filter(removed_at__isnull=True)


def case_agency_list(*, case: Case) -> QuerySet[CaseAgency]:
    return CaseAgency.objects.filter(case_id=case.pk).select_related("agency").order_by("id")


def case_agency_get(*, case: Case, agency_code: str) -> CaseAgency:
    try:
        return case_agency_list(case=case).get(agency__code=agency_code)
    except CaseAgency.DoesNotExist as exc:
        raise Http404 from exc


def share_request_list_visible_to(*, user: Any) -> QuerySet[ShareRequest]:
    """Share requests are the business of the lead agency's supervisors only (SPEC §1): those
    who decide them. Everyone else — the requesting agency included — sees none."""
    if _case_role(user) != Role.SUPERVISOR:
        return ShareRequest.objects.none()
    return (
        ShareRequest.objects.filter(case__lead_agency_id=user.agency_id)
        .select_related("case", "agency")
        .order_by("-id")
    )


def share_request_awaiting(*, user: Any) -> QuerySet[ShareRequest]:
    """The share requests awaiting the user's decision."""
    return share_request_list_visible_to(user=user).filter(status=ShareRequest.Status.PENDING)


def share_request_get_visible(*, user: Any, pk: Any) -> ShareRequest:
    try:
        return share_request_list_visible_to(user=user).get(pk=pk)
    except (ShareRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def missing_episode_list(*, case: Case) -> QuerySet[MissingEpisode]:
    return MissingEpisode.objects.filter(case_id=case.pk).order_by("-missing_since", "-id")


def missing_episode_get_visible(*, user: Any, pk: Any) -> MissingEpisode:
    try:
        return MissingEpisode.objects.select_related("case").get(pk=pk, case_id__in=case_ids_visible_to(user=user))
    except (MissingEpisode.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def placement_list(*, case: Case) -> QuerySet[Placement]:
    return Placement.objects.filter(case_id=case.pk).order_by("-start_date", "-id")


def service_referral_list(*, case: Case) -> QuerySet[ServiceReferral]:
    return ServiceReferral.objects.filter(case_id=case.pk).order_by("-referred_at", "-id")


def court_hearing_list(*, case: Case) -> QuerySet[CourtHearing]:
    return CourtHearing.objects.filter(case_id=case.pk).order_by("starts_at", "id")


def safety_alert_list(*, case: Case, active_only: bool = False) -> QuerySet[SafetyAlert]:
    qs = SafetyAlert.objects.filter(case_id=case.pk).order_by("-id")
    return qs.filter(is_active=True) if active_only else qs


def case_referral_ids(*, case: Case) -> list[int]:
    return list(Referral.objects.filter(case_id=case.pk).order_by("id").values_list("id", flat=True))


def indicator_codes_active() -> set[str]:
    return set(IndicatorCode.objects.filter(is_active=True).values_list("code", flat=True))


# --- timeline and history ------------------------------------------------------------------------


def _day_start(value: dt.date) -> dt.datetime:
    return dt.datetime.combine(value, dt.time.min, tzinfo=timezone.get_default_timezone())


def case_timeline(*, user: Any, case: Case) -> list[dict[str, Any]]:
    """What happened on the case, oldest first: referrals, screening, opening and closing,
    team and agency changes, notes the user may read, missing episodes, placements, services,
    hearings and alerts. Codes, ids and times only — the details are on each part's endpoint.
    One query per kind of part, whatever the number of rows."""
    items: list[dict[str, Any]] = []

    def add(
        at: Any, kind: str, object_type: str, object_id: int, actor: int | None = None, detail: dict | None = None
    ) -> None:
        if at is not None:
            items.append(
                {
                    "at": at,
                    "kind": kind,
                    "object_type": object_type,
                    "object_id": object_id,
                    "actor": actor,
                    "detail": detail or {},
                }
            )

    add(case.created_at, "case_opened", "case", case.pk, None, {"lead_agency": case.lead_agency.code})
    if case.closed_at:
        add(case.closed_at, "case_closed", "case", case.pk)
    for r in Referral.objects.filter(case_id=case.pk).select_related("screening", "referring_agency"):
        add(
            r.received_at,
            "referral_received",
            "referral",
            r.pk,
            r.created_by_id,
            {"source": r.source, "referring_agency": r.referring_agency.code},
        )
        screening = getattr(r, "screening", None)
        if screening is not None:
            add(
                screening.screened_at,
                "referral_screened",
                "referral",
                r.pk,
                screening.screened_by_id,
                {"level": screening.level},
            )
    for m in CaseTeamMember.objects.filter(case_id=case.pk):
        add(
            m.added_at,
            "team_member_added",
            "case_team_member",
            m.pk,
            m.added_by_id,
            {"user": m.user_id, "role": m.case_role},
        )
        add(m.removed_at, "team_member_removed", "case_team_member", m.pk, None, {"user": m.user_id})
    for p in CaseAgency.objects.filter(case_id=case.pk).select_related("agency"):
        add(
            p.granted_at,
            "agency_granted",
            "case_agency",
            p.pk,
            p.granted_by_id,
            {"agency": p.agency.code, "legal_basis": p.legal_basis},
        )
        add(p.revoked_at, "agency_revoked", "case_agency", p.pk, None, {"agency": p.agency.code})
    for n in note_list_visible_to(user=user, case=case).only(
        "id", "created_at", "author_id", "visibility", "corrects_id"
    ):
        add(
            n.created_at,
            "note_added",
            "note",
            n.pk,
            n.author_id,
            {"visibility": n.visibility, "corrects": n.corrects_id},
        )
    for e in missing_episode_list(case=case):
        add(e.missing_since, "missing_episode_started", "missing_episode", e.pk, e.created_by_id)
        add(e.returned_at, "missing_episode_returned", "missing_episode", e.pk)
    for pl in placement_list(case=case).only("id", "start_date", "end_date", "placement_type", "created_by_id"):
        add(
            _day_start(pl.start_date),
            "placement_started",
            "placement",
            pl.pk,
            pl.created_by_id,
            {"placement_type": pl.placement_type},
        )
        if pl.end_date:
            add(_day_start(pl.end_date), "placement_ended", "placement", pl.pk)
    for s in service_referral_list(case=case):
        add(
            s.referred_at,
            "service_referred",
            "service_referral",
            s.pk,
            s.created_by_id,
            {"service_type": s.service_type, "is_health_exam": s.is_health_exam},
        )
    for h in court_hearing_list(case=case):
        add(
            h.starts_at,
            "court_hearing",
            "court_hearing",
            h.pk,
            h.created_by_id,
            {"court": h.court, "hearing_type": h.hearing_type},
        )
    for a in safety_alert_list(case=case).only("id", "created_at", "kind", "created_by_id"):
        add(a.created_at, "safety_alert_added", "safety_alert", a.pk, a.created_by_id, {"kind": a.kind})
    items.sort(key=lambda i: (i["at"], i["object_type"], i["object_id"]))
    return items


#: Fields never shown in a history entry (encrypted identifying details shown only to the
#: lead agency's case team are handled separately).
_HISTORY_SKIP = {"updated_at", "id"}
_PROTECTED_FIELDS = {"placement": {"address"}, "safety_alert": {"protected_detail"}}


def _history_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def case_history(*, user: Any, case: Case) -> list[dict[str, Any]]:
    """Every recorded change to the case and its parts (django-simple-history), oldest first:
    created / changed / deleted, by whom, and the fields set. Placement addresses and protected
    alert details appear only for the lead agency's case team; notes (append-only, not in
    simple-history) appear as their creation, filtered exactly as the notes list is."""
    access = case_access(user=user, case=case)
    referral_ids = case_referral_ids(case=case)
    sources: list[tuple[str, Any, Q]] = [
        ("case", Case.history, Q(id=case.pk)),
        ("referral", Referral.history, Q(id__in=referral_ids)),
        ("screening", Screening.history, Q(referral_id__in=referral_ids)),
        ("case_team_member", CaseTeamMember.history, Q(case_id=case.pk)),
        ("case_agency", CaseAgency.history, Q(case_id=case.pk)),
        ("missing_episode", MissingEpisode.history, Q(case_id=case.pk)),
        ("placement", Placement.history, Q(case_id=case.pk)),
        ("service_referral", ServiceReferral.history, Q(case_id=case.pk)),
        ("court_hearing", CourtHearing.history, Q(case_id=case.pk)),
        ("safety_alert", SafetyAlert.history, Q(case_id=case.pk)),
    ]
    entries: list[dict[str, Any]] = []
    for object_type, manager, q in sources:
        model = manager.model
        names = [f.attname for f in model.instance_type._meta.concrete_fields if f.attname not in _HISTORY_SKIP]
        if not access.can_see_protected:
            names = [n for n in names if n not in _PROTECTED_FIELDS.get(object_type, set())]
        previous: dict[int, dict[str, Any]] = {}
        rows = manager.filter(q).order_by("history_date", "history_id")
        for row in rows:
            values = {n: _history_value(getattr(row, n)) for n in names}
            before = previous.get(row.id)
            if row.history_type == "+" or before is None:
                fields = values
            else:
                fields = {n: v for n, v in values.items() if before.get(n) != v}
            previous[row.id] = values
            if row.history_type == "~" and not fields:
                continue
            entries.append(
                {
                    "at": row.history_date,
                    "actor": row.history_user_id,
                    "object_type": object_type,
                    "object_id": row.id,
                    "change": {"+": "created", "~": "changed", "-": "deleted"}[row.history_type],
                    "fields": fields,
                }
            )
    for n in note_list_visible_to(user=user, case=case).only(
        "id", "created_at", "author_id", "visibility", "corrects_id", "author_agency_id"
    ):
        entries.append(
            {
                "at": n.created_at,
                "actor": n.author_id,
                "object_type": "note",
                "object_id": n.pk,
                "change": "created",
                "fields": {
                    "visibility": n.visibility,
                    "corrects_id": n.corrects_id,
                    "author_agency_id": n.author_agency_id,
                },
            }
        )
    entries.sort(key=lambda e: (e["at"], e["object_type"], e["object_id"]))
    return entries
