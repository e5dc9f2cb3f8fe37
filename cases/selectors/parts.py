"""The parts of a case a caller already found visible (`visibility.case_get_visible`): its
team, participating agencies, missing episodes, placements, services, hearings, alerts and
referral ids — and the active indicator codes a referral may name."""

from __future__ import annotations

from django.db.models import QuerySet
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
