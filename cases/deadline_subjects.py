"""How cases/ describes its deadline subjects to notifications/ (registered in `CasesConfig.ready()`).

The subjects are referrals, missing episodes and case participations (sharing grants). Who may
see their deadlines is decided by cases' own visibility selectors; who is responsible is the
referral's creator and the case team (SPEC §3 "Recipients").
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q

from core.permissions import is_case_role
from notifications import subjects
from notifications.models import Recipients, TargetKind

from .models import CaseTeamMember, Referral
from .selectors import visibility as selectors


def _empty() -> dict[str, Any]:
    keys = ("case_id", "referral_id", "youth_id", "agency_id", "team_id", "assignee_id")
    return dict.fromkeys(keys)


def describe_referral(rule: Any, referral: Any) -> dict[str, Any]:
    out = _empty()
    out.update(referral_id=referral.pk, case_id=referral.case_id, youth_id=referral.youth_id)
    out["agency_id"] = (
        referral.referring_agency_id if rule.responsible_agency == "referring" else referral.receiving_agency_id
    )
    out["reference"] = f"Referral R-{referral.pk}"
    out["link_path"] = f"/app/referrals/{referral.pk}/"  # its web page (SPEC §3)
    return out


def describe_case_part(rule: Any, target: Any, *, suffix: str) -> dict[str, Any]:
    """A deadline on an object of a case (a missing episode, a participation): the case's lead
    agency is responsible; the link goes to the case's list of such objects."""
    case = target.case
    out = _empty()
    out.update(case_id=case.pk, youth_id=case.youth_id, reference=f"Case {case.number}")
    out["agency_id"] = case.lead_agency_id
    out["link_path"] = f"/app/cases/{case.pk}/#{suffix}"  # its web page (SPEC §3)
    return out


def describe_missing_episode(rule: Any, episode: Any) -> dict[str, Any]:
    return describe_case_part(rule, episode, suffix="missing-episodes")


def describe_case_agency(rule: Any, participation: Any) -> dict[str, Any]:
    return describe_case_part(rule, participation, suffix="agencies")


def visible(*, user: Any, deadlines: Any) -> list[Any]:
    """The deadlines of the referrals and cases the user may see (case roles only)."""
    if not is_case_role(user):
        return []
    rows = selectors.visible_row_conditions(user=user, referral="referral", case="case")
    if rows is not None:
        # A supervisor sees most of the agency's deadlines: a condition per row lets the list
        # walk its due-date index and stop after a page.
        condition = Q(referral_id__isnull=False) & rows.referral | Q(referral_id__isnull=True) & rows.case
        return [subjects.RowCondition(condition=condition, joins=rows.joins)]
    referral_ids = selectors.referral_list_visible_to(user=user).values("id")
    case_ids = selectors.case_ids_visible_to(user=user)
    return [
        deadlines.filter(referral_id__in=referral_ids).values("id"),
        deadlines.filter(referral__isnull=True, case_id__in=case_ids).values("id"),
    ]


def responsible_loader(deadlines: list[Any]) -> Any:
    """The referral's creator and the case teams of a batch, read now (a team change or a
    deactivation since the deadline was opened is reflected), in one query for the batch: the
    active members of the batch's cases, with what a reminder uses of each person.

    The deadlines must come with `referral` (and its creator) loaded, as the sweep's claim does."""
    case_ids = {d.case_id for d in deadlines if d.case_id} | {
        d.referral.case_id for d in deadlines if d.referral_id and d.referral.case_id
    }
    members = (
        CaseTeamMember.objects.filter(case_id__in=case_ids, removed_at__isnull=True, user__is_active=True)
        .select_related("user")
        .only("case_id", *(f"user__{f}" for f in ("id", "email", "is_active", "agency_id", "role")))
        .order_by("user_id")
    )
    team: dict[int, list[Any]] = defaultdict(list)
    for member in members:
        team[member.case_id].append(member.user)

    def case_team(case_id: int | None, agency_id: int | None) -> list[Any]:
        """The active case team, limited to the responsible agency's people."""
        if case_id is None:
            return []
        return [u for u in team.get(case_id, []) if not agency_id or u.agency_id == agency_id]

    def responsible(deadline: Any) -> list[Any]:
        if deadline.recipients == Recipients.REFERRAL:
            # The referral's creator, and the responsible agency's people on its case team.
            if not deadline.referral_id:
                return []
            referral = deadline.referral
            people = [referral.created_by] if referral.created_by.is_active else []
            people += case_team(referral.case_id, deadline.agency_id)
            return sorted({u.pk: u for u in people}.values(), key=lambda u: u.pk)
        case_id = deadline.case_id or (deadline.referral.case_id if deadline.referral_id else None)
        return case_team(case_id, deadline.agency_id)

    return responsible


def referral_cases(case_ids: list[int]) -> dict[int, int]:
    """{referral id: case id} for the referrals that led to these cases."""
    return dict(Referral.objects.filter(case_id__in=case_ids).values_list("id", "case_id"))


def register() -> None:
    subjects.register(
        subjects=[
            subjects.Subject(TargetKind.REFERRAL, "cases.referral", describe_referral),
            subjects.Subject(TargetKind.MISSING_EPISODE, "cases.missingepisode", describe_missing_episode),
            subjects.Subject(TargetKind.CASE_AGENCY, "cases.caseagency", describe_case_agency),
        ],
        visible=visible,
        visibility_keys=selectors.visibility_keys,
        responsible={Recipients.REFERRAL: responsible_loader, Recipients.CASE_TEAM: responsible_loader},
        referral_cases=referral_cases,
    )
