"""Who may see which case, referral, youth record, note and share request — the ONE place that
decides who sees what (SPEC §1).

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
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.db.models import Exists, FilteredRelation, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from core.permissions import CASE_ROLES, Role, role_of

from ..models import Case, CaseAgency, CaseTeamMember, MissingEpisode, Note, Referral, ShareRequest, Youth
from ..permissions import CaseAccess, is_clinical_user

# A one-column values() queryset of ids (of any model), for `id__in=` / `case_id__in=`.
IdSubquery: TypeAlias = QuerySet[Model, Mapping[str, object]]


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


def _agency_case_ids(agency_id: int) -> IdSubquery:
    """The ids of the cases an agency leads or participates in, as a UNION of two indexed id
    sets. `lead OR id IN (participations)` cannot use an index: PostgreSQL turns the OR across a
    subquery into a hashed SubPlan and reads every case (EXPLAIN: Seq Scan on cases_case)."""
    led = Case.objects.filter(lead_agency_id=agency_id).order_by().values("id")
    participating = (
        CaseAgency.objects.filter(participation_active_q(), agency_id=agency_id).order_by().values("case_id")
    )
    return led.union(participating)


def case_ids_visible_to(*, user: Any) -> IdSubquery:
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


def case_list_visible_to(*, user: Any) -> QuerySet[Case]:
    role = _case_role(user)
    if role is None:
        return Case.objects.none()
    if role == Role.SUPERVISOR:
        # A supervisor sees most of the agency's cases: a condition on each case row lets a
        # page walk the primary key backwards and stop after 50 rows, where `id IN (the
        # agency's case ids)` first gathered and sorted all ~11,000 (23 ms at county scale).
        # The participation is a LEFT JOIN on its (case, agency) unique index, probed row by
        # row: as an `Exists` in the OR, PostgreSQL hashed every participation of the agency
        # before the first row (99,230 at state scale: 55 ms for the page, as much again for
        # its count).
        cases: QuerySet[Case] = Case.objects.annotate(visible_part=_participation_join(user.agency_id, "")).filter(
            Q(lead_agency_id=user.agency_id) | Q(visible_part__isnull=False)
        )
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


def _referral_id_sets(user: Any, role: str) -> list[IdSubquery]:
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


def _referral_ids_visible_to(user: Any, role: str) -> IdSubquery:
    first, *rest = _referral_id_sets(user, role)
    return first.union(*rest)


def referral_list_visible_to(*, user: Any) -> QuerySet[Referral]:
    role = _case_role(user)
    if role is None:
        return Referral.objects.none()
    referrals: QuerySet[Referral]
    if role == Role.SUPERVISOR:
        # Most of the agency's referrals: a condition per row lets a page walk the primary key
        # backwards and stop after 50, where the id sets first gathered all ~27,000.
        referrals = Referral.objects.annotate(visible_part=_participation_join(user.agency_id, "case")).filter(
            _supervisor_referral_q(user.agency_id, "", "visible_part")
        )
    else:
        referrals = Referral.objects.filter(id__in=_referral_ids_visible_to(user, role))
    return referrals.select_related("referring_agency", "receiving_agency").order_by("-id")


@dataclass(frozen=True)
class RowVisibility:
    """A supervisor's visibility as conditions on the rows of a list, with the filtered joins
    they read (`joins`: annotate the queryset with them, then filter on the conditions)."""

    joins: dict[str, FilteredRelation]
    referral: Q
    case: Q


def _participation_join(agency_id: int, path: str) -> FilteredRelation:
    """The agency's live participation in the case at `path` ("" for a Case itself; at most one: one per agency), as
    a LEFT JOIN on the (case, agency) unique index. Tested row by row as the list is walked:
    an `Exists` in an OR is planned as a hash of every participation of the agency (10,000 at
    county scale, ten times that at state scale) built before the first row."""
    relation = f"{path}__participations" if path else "participations"
    prefix = f"{relation}__"
    return FilteredRelation(
        relation,
        condition=Q(**{f"{prefix}agency_id": agency_id}) & participation_active_q(prefix=prefix),
    )


def _supervisor_referral_q(agency_id: int, prefix: str, joined: str) -> Q:
    """A supervisor's referrals (`_referral_id_sets`), as a condition on a referral row: their
    agency referred or received it, or leads or takes part in its case (`joined`: the
    participation join of `_participation_join`)."""
    return (
        Q(**{f"{prefix}referring_agency_id": agency_id})
        | Q(**{f"{prefix}receiving_agency_id": agency_id})
        | Q(**{f"{prefix}case__lead_agency_id": agency_id})
        | Q(**{f"{joined}__isnull": False})
    )


def visible_row_conditions(*, user: Any, referral: str, case: str) -> RowVisibility | None:
    """For a reader who sees most of their agency (a supervisor): "the referral at path
    `referral` is visible" and "the case at path `case` is visible", as conditions on the rows
    of another model's list (deadlines: `referral`, `case`) — the same rule as
    `referral_list_visible_to` / `case_ids_visible_to` of a supervisor, row by row.

    The list can then walk its own ordering index and stop after one page, where
    `referral_id IN (every visible referral)` first gathers ~25,000 ids (a supervisor's deadline
    list: 650 ms at county scale). None for everyone else: a case worker sees a few hundred ids,
    which the id sets find faster than a walk past everything they may not see."""
    if _case_role(user) != Role.SUPERVISOR:
        return None
    agency_id = user.agency_id
    joins = {
        "visible_referral_part": _participation_join(agency_id, f"{referral}__case"),
        "visible_case_part": _participation_join(agency_id, case),
    }
    return RowVisibility(
        joins=joins,
        referral=_supervisor_referral_q(agency_id, f"{referral}__", "visible_referral_part"),
        case=Q(**{f"{case}__lead_agency_id": agency_id}) | Q(visible_case_part__isnull=False),
    )


def visibility_keys(users: list[Any]) -> dict[int, Hashable | None]:
    """{user id: key}: people with the same key see exactly the same referrals and cases —
    supervisors, their agency's (the rule above, which reads nothing of the person but the
    agency); people of no case role, none. Every other reader is decided person by person
    (None). No query. Keep it beside the rules it summarises: a supervisor rule that comes to
    depend on the person must make this None for them."""
    keys: dict[int, Hashable | None] = {}
    for user in users:
        role = _case_role(user)
        keys[user.pk] = ("agency", user.agency_id) if role == Role.SUPERVISOR else None if role else ("none",)
    return keys


def referral_get_visible(*, user: Any, pk: Any) -> Referral:
    try:
        return referral_list_visible_to(user=user).select_related("screening").get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- youth ---------------------------------------------------------------------------------------


def youth_ids_visible_to(*, user: Any) -> IdSubquery:
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


# --- notes ---------------------------------------------------------------------------------------


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


# --- share requests ------------------------------------------------------------------------------


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


# --- missing episodes (reached by their own id) --------------------------------------------------


def missing_episode_get_visible(*, user: Any, pk: Any) -> MissingEpisode:
    try:
        return MissingEpisode.objects.select_related("case", "return_screening").get(
            pk=pk, case_id__in=case_ids_visible_to(user=user)
        )
    except (MissingEpisode.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# --- youth contact details -----------------------------------------------------------------------


def youth_contact_details_visible(*, user: Any, youth: Youth) -> bool:
    """Contact details (phone numbers, handles, who to call) are protected like placement
    addresses (SPEC §2): the lead agency's case team of the youth's open case; when the youth has
    no open case, the agency holding the record (its supervisors, the record's creator while a
    case worker of it) — those who keep the record then."""
    role = _case_role(user)
    if role is None:
        return False
    open_cases = list(Case.objects.filter(youth_id=youth.pk, status=Case.Status.OPEN))
    if open_cases:
        return any(case_access(user=user, case=case).can_see_protected for case in open_cases)
    if user.agency_id != youth.holding_agency_id:
        return False
    return role == Role.SUPERVISOR or youth.created_by_id == user.pk
