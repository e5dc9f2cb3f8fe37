"""Safety alerts of a case (SPEC §2): raised, and resolved (who, when, why). Each write starts
with `case_for_write`: the actor still sees the case, and may do this on it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from core.etags import check_if_match

from ..models import Case, SafetyAlert
from ._common import Action, _audit, _forbidden, _save
from .cases import case_for_write


@transaction.atomic
def safety_alert_create(
    *,
    case: Case,
    actor: User,
    kind: str,
    summary: str,
    protected_detail: str = "",
    is_active: bool = True,
) -> SafetyAlert:
    case, access = case_for_write(case_id=case.pk, actor=actor)
    if protected_detail and not access.can_see_protected:
        raise _forbidden("Only the lead agency's case team records protected alert details.")
    alert = SafetyAlert(
        case=case, kind=kind, summary=summary, protected_detail=protected_detail, is_active=is_active, created_by=actor
    )
    _save(alert, actor=actor)
    _audit(actor, Action.CREATE, "safety_alert", alert, case.youth_id, case=case.pk, kind=kind)
    return alert


@transaction.atomic
def safety_alert_resolve(*, alert: SafetyAlert, actor: User, reason: str, if_match: str | None = None) -> SafetyAlert:
    """Resolve an alert (SPEC §2: who, when, why): it stops showing at the top of the case and
    its agenda view, and stays in the case's history. The lead agency (its case team and
    supervisors) resolves an alert, and so does the person who raised it; twice answers 409."""
    _, access = case_for_write(case_id=alert.case_id, actor=actor)
    alert = SafetyAlert.objects.select_for_update().select_related("case").get(pk=alert.pk)
    if not (access.can_edit_case or alert.created_by_id == actor.pk):
        raise _forbidden("An alert is resolved by the lead agency's case team or supervisors, or by who raised it.")
    check_if_match(alert, if_match)
    if not alert.is_active:
        raise ApplicationError("The alert is already resolved.", code="conflict")
    if not reason.strip():
        raise ApplicationError("Send why the alert is resolved.", fields={"reason": ["This field is required."]})
    alert.is_active = False
    alert.resolved_by = actor
    alert.resolved_at = timezone.now()
    alert.resolution_reason = reason.strip()
    _save(alert, actor=actor)
    _audit(actor, Action.TRANSITION, "safety_alert", alert, alert.case.youth_id, case=alert.case_id, step="resolve")
    return alert
