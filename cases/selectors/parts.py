"""The parts of a case a caller already found visible (`visibility.case_get_visible`): its
team, participating agencies, missing episodes, placements, services, hearings, alerts and
referral ids — and the active indicator codes a referral may name. Placements, services,
hearings and alerts are also reached by their own id (`*_get_visible`), through the cases the
caller may see.

A `mental_health` service is clinical information (SPEC §2, WIC 5328): shown only where clinical
notes are — to users of a clinical agency (HARBOR_CLINICAL_AGENCIES) — in every list, detail,
timeline and history (`service_visibility_q`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from ..models import (
    Case,
    CaseAgency,
    CaseTeamMember,
    CourtHearing,
    IndicatorCode,
    MissingEpisode,
    Placement,
    Referral,
    SafetyAlert,
    ServiceReferral,
)
from ..permissions import is_clinical_user
from .visibility import case_ids_visible_to


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


def missing_episode_list(*, case: Case) -> QuerySet[MissingEpisode]:
    return (
        MissingEpisode.objects.filter(case_id=case.pk)
        .select_related("return_screening")
        .order_by("-missing_since", "-id")
    )


def placement_list(*, case: Case) -> QuerySet[Placement]:
    return Placement.objects.filter(case_id=case.pk).order_by("-start_date", "-id")


def service_visibility_q(*, user: Any) -> Q:
    """The services `user` may see of a case they see: all but the mental-health ones, which only
    users of a clinical agency see — the rule of clinical notes (`visibility.note_visibility_q`)."""
    if is_clinical_user(user):
        return Q()
    return ~Q(kind=ServiceReferral.Kind.MENTAL_HEALTH)


def service_referral_list(*, user: Any, case: Case) -> QuerySet[ServiceReferral]:
    return ServiceReferral.objects.filter(service_visibility_q(user=user), case_id=case.pk).order_by(
        "-referred_at", "-id"
    )


def court_hearing_list(*, case: Case) -> QuerySet[CourtHearing]:
    return CourtHearing.objects.filter(case_id=case.pk).order_by("starts_at", "id")


def safety_alert_list(*, case: Case, active_only: bool = False) -> QuerySet[SafetyAlert]:
    """Active alerts first (they show at the top of the case), then resolved ones, newest first."""
    qs = SafetyAlert.objects.filter(case_id=case.pk).order_by("-is_active", "-id")
    return qs.filter(is_active=True) if active_only else qs


def _part_get_visible(qs: QuerySet, *, user: Any, pk: Any) -> Any:
    try:
        return qs.select_related("case").get(pk=pk, case_id__in=case_ids_visible_to(user=user))
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def placement_get_visible(*, user: Any, pk: Any) -> Placement:
    return _part_get_visible(Placement.objects.all(), user=user, pk=pk)


def service_referral_get_visible(*, user: Any, pk: Any) -> ServiceReferral:
    """404 for a mental-health service to a user who may see its case but not clinical notes."""
    return _part_get_visible(ServiceReferral.objects.filter(service_visibility_q(user=user)), user=user, pk=pk)


def court_hearing_get_visible(*, user: Any, pk: Any) -> CourtHearing:
    return _part_get_visible(CourtHearing.objects.all(), user=user, pk=pk)


def safety_alert_get_visible(*, user: Any, pk: Any) -> SafetyAlert:
    return _part_get_visible(SafetyAlert.objects.all(), user=user, pk=pk)


def case_referral_ids(*, case: Case) -> list[int]:
    return list(Referral.objects.filter(case_id=case.pk).order_by("id").values_list("id", flat=True))


def indicator_codes_active() -> set[str]:
    return set(IndicatorCode.objects.filter(is_active=True).values_list("code", flat=True))


def indicator_code_list() -> QuerySet[IndicatorCode]:
    """Every indicator code, active ones first, then by code: reference data, the same for every
    signed-in user (the inactive ones still label the referrals that carry them)."""
    return IndicatorCode.objects.order_by("-is_active", "code")
