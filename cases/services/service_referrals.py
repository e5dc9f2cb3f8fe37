"""Service referrals of a case (SPEC §2): they meet the First Responder Protocol's services
clock and move through their statuses; mental-health ones are clinical (WIC 5328). Each write
starts with `case_for_write`: the actor still sees the case, and may do this on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from core.etags import check_if_match
from notifications.services import deadlines

from ..models import Case, Referral, ServiceReferral
from ._common import FACT_TIME_LEEWAY, Action, _audit, _fact_time_errors, _forbidden, _save
from .cases import case_for_write

_SERVICE_TIME_WORDS = {
    "referred_at": "when the referral was made",
    "accepted_at": "when the provider accepted the youth",
    "started_at": "when the service began",
    "ended_at": "when the service ended",
}
_SERVICE_NOT_BEFORE = {
    "accepted_at": ("referred_at",),
    "started_at": ("accepted_at", "referred_at"),
    "ended_at": ("started_at", "accepted_at", "referred_at"),
}
#: The date a status records, set to now when the client sends none.
_SERVICE_STATUS_DATE = {
    ServiceReferral.Status.ACCEPTED: "accepted_at",
    ServiceReferral.Status.IN_PROGRESS: "started_at",
    **{status: "ended_at" for status in ServiceReferral.ENDED},
}


def _validate_service(values: Mapping[str, Any]) -> None:
    """A service's times are facts (SPEC §2): none in the future, each after the one before;
    an ended service has its end time and a service not ended has none."""
    errors = _fact_time_errors(values, words=_SERVICE_TIME_WORDS, not_before=_SERVICE_NOT_BEFORE)
    status = values.get("status")
    if status not in ServiceReferral.ENDED and values.get("ended_at") is not None:
        errors.setdefault("ended_at", ["Only a completed, declined, not engaged or cancelled service has an end."])
    if errors:
        raise ApplicationError("Some times cannot be right; see each field.", fields=errors)


def _service_kind(kind: str, is_health_exam: bool) -> tuple[str, bool]:
    """`is_health_exam` (the older flag) and `kind` say the same thing for health exams."""
    if is_health_exam and kind == ServiceReferral.Kind.OTHER:
        kind = ServiceReferral.Kind.HEALTH_EXAM
    return kind, is_health_exam or kind == ServiceReferral.Kind.HEALTH_EXAM


@transaction.atomic
def service_referral_create(
    *,
    case: Case,
    actor: User,
    provider: str,
    referred_at: dt.datetime,
    kind: str = ServiceReferral.Kind.OTHER,
    service_type: str = "",
    evidence_based_practice: str = "",
    is_health_exam: bool = False,
    status: str = ServiceReferral.Status.REFERRED,
    status_reason: str = "",
    accepted_at: dt.datetime | None = None,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
) -> ServiceReferral:
    """Record a service referral (or health exam); it meets the First Responder Protocol's 72-hour
    services clock of the case's recovered referrals. A mental-health service is clinical
    information (WIC 5328): recorded only by those who read clinical notes."""
    case, access = case_for_write(case_id=case.pk, actor=actor)
    kind, is_health_exam = _service_kind(kind, is_health_exam)
    if kind == ServiceReferral.Kind.MENTAL_HEALTH and not access.can_write_clinical:
        raise _forbidden("Only staff of a clinical (mental-health) agency record a mental-health service.")
    if referred_at > timezone.now() + FACT_TIME_LEEWAY:
        # It meets the services clock: a fact time, never in the future (SPEC §2).
        raise ApplicationError(
            "A service referral is recorded when it is made: send its time, not a future one.",
            fields={"referred_at": ["Must not be in the future."]},
        )
    values = {
        "status": status,
        "referred_at": referred_at,
        "accepted_at": accepted_at,
        "started_at": started_at,
        "ended_at": ended_at,
    }
    _validate_service(values)
    service = ServiceReferral(
        case=case,
        provider=provider,
        kind=kind,
        service_type=service_type,
        evidence_based_practice=evidence_based_practice,
        is_health_exam=is_health_exam,
        status_reason=status_reason.strip(),
        created_by=actor,
        **values,
    )
    _save(service, actor=actor)
    _audit(
        actor, Action.CREATE, "service_referral", service, case.youth_id, case=case.pk, is_health_exam=is_health_exam
    )
    for referral in Referral.objects.filter(case_id=case.pk, recovered_at__isnull=False, recovered_at__lte=referred_at):
        deadlines.deadline_meet(rule_code="frp_services_72h", target=referral, met_at=referred_at, actor=actor)
    return service


@transaction.atomic
def service_referral_update(
    *, service: ServiceReferral, actor: User, data: Mapping[str, Any], if_match: str | None = None
) -> ServiceReferral:
    """Move a service through its statuses (SPEC §2: referred → accepted → in_progress →
    completed, or declined / not_engaged / cancelled), each with its date — the time sent, or
    now — or correct its dates and reason. A move the status does not allow answers 409."""
    _, access = case_for_write(case_id=service.case_id, actor=actor)
    service = ServiceReferral.objects.select_for_update().select_related("case").get(pk=service.pk)
    if service.kind == ServiceReferral.Kind.MENTAL_HEALTH and not access.can_read_clinical:
        raise Http404
    check_if_match(service, if_match)
    status = data.get("status", service.status)
    if status != service.status:
        if status not in ServiceReferral.TRANSITIONS.get(service.status, set()):
            raise ApplicationError(
                f"A {service.status} service cannot become {status}.",
                code="conflict",
                fields={
                    "status": [
                        f"Allowed now: {', '.join(sorted(ServiceReferral.TRANSITIONS.get(service.status, ()))) or 'none'}."
                    ]
                },
            )
        stamp = _SERVICE_STATUS_DATE.get(status)
        if stamp and data.get(stamp) is None:
            data = {**data, stamp: timezone.now()}
    values = {name: data.get(name, getattr(service, name)) for name in ("accepted_at", "started_at", "ended_at")}
    _validate_service({"status": status, "referred_at": service.referred_at, **values})
    changed = []
    for name, value in (("status", status), *values.items()):
        if getattr(service, name) != value:
            setattr(service, name, value)
            changed.append(name)
    if "status_reason" in data and service.status_reason != data["status_reason"].strip():
        service.status_reason = data["status_reason"].strip()
        changed.append("status_reason")
    if changed:
        _save(service, actor=actor)
    _audit(
        actor,
        Action.TRANSITION if "status" in changed else Action.UPDATE,
        "service_referral",
        service,
        service.case.youth_id,
        case=service.case_id,
        fields=changed,
    )
    return service
