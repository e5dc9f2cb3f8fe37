"""Court hearings of a case (SPEC §2): scheduled, rescheduled, cancelled, held with an outcome.
Each write starts with `case_for_write`: the actor still sees the case, and may do this on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from core.etags import check_if_match

from ..models import Case, CourtHearing
from ._common import FACT_TIME_LEEWAY, Action, _audit, _save
from .cases import case_for_write


@transaction.atomic
def court_hearing_create(
    *, case: Case, actor: User, starts_at: dt.datetime, hearing_type: str, court: str = ""
) -> CourtHearing:
    case, _ = case_for_write(case_id=case.pk, actor=actor)
    hearing = CourtHearing(
        case=case, starts_at=starts_at, hearing_type=hearing_type, court=court or case.court, created_by=actor
    )
    _save(hearing, actor=actor)
    _audit(actor, Action.CREATE, "court_hearing", hearing, case.youth_id, case=case.pk)
    return hearing


@transaction.atomic
def court_hearing_update(
    *, hearing: CourtHearing, actor: User, data: Mapping[str, Any], if_match: str | None = None
) -> CourtHearing:
    """Reschedule (a new `starts_at` with a `reason`), cancel (with a `reason`), or record that it
    was held and its `outcome` (SPEC §2). A hearing held or cancelled moves no more (409); the
    outcome of a held one can be corrected. The history keeps every earlier time and reason."""
    case_for_write(case_id=hearing.case_id, actor=actor)
    hearing = CourtHearing.objects.select_for_update().select_related("case").get(pk=hearing.pk)
    check_if_match(hearing, if_match)
    Status = CourtHearing.Status
    status = data.get("status")
    starts_at = data.get("starts_at", hearing.starts_at)
    if status is None:
        status = Status.RESCHEDULED if starts_at != hearing.starts_at else hearing.status
    reason = str(data.get("reason", "") or "").strip()
    pending = hearing.status in CourtHearing.PENDING
    moves = status != hearing.status or starts_at != hearing.starts_at
    if moves and not pending:
        raise ApplicationError(f"A {hearing.status} hearing is not moved any more.", code="conflict")
    errors: dict[str, list[str]] = {}
    if status == Status.SCHEDULED and hearing.status != Status.SCHEDULED:
        errors["status"] = ["Send rescheduled with the new starts_at, held or cancelled."]
    if status == Status.RESCHEDULED and starts_at == hearing.starts_at and hearing.status == Status.SCHEDULED:
        errors["starts_at"] = ["Send the new time of the hearing."]
    if status in (Status.RESCHEDULED, Status.CANCELLED) and moves and not reason:
        errors["reason"] = [
            "Send why the hearing was " + ("rescheduled." if status == Status.RESCHEDULED else "cancelled.")
        ]
    if status != Status.RESCHEDULED and starts_at != hearing.starts_at:
        errors["starts_at"] = ["A new time reschedules the hearing: send it with status rescheduled (or alone)."]
    if status == Status.HELD and starts_at > timezone.now() + FACT_TIME_LEEWAY:
        errors["status"] = ["A hearing is held once its time has come: reschedule it, or record it after."]
    if "outcome" in data and status != Status.HELD:
        errors["outcome"] = ["An outcome is recorded for a hearing that was held: send it with status held."]
    if errors:
        raise ApplicationError("The hearing cannot change so; see each field.", fields=errors)
    changed = []
    updates: dict[str, Any] = {"status": status, "starts_at": starts_at}
    if moves and reason:
        updates["reason"] = reason
    if "outcome" in data:
        updates["outcome"] = str(data["outcome"] or "").strip()
    for name in ("court", "hearing_type"):
        if name in data:
            updates[name] = data[name]
    for name, value in updates.items():
        if getattr(hearing, name) != value:
            setattr(hearing, name, value)
            changed.append(name)
    if changed:
        _save(hearing, actor=actor)
    _audit(
        actor,
        Action.TRANSITION if "status" in changed else Action.UPDATE,
        "court_hearing",
        hearing,
        hearing.case.youth_id,
        case=hearing.case_id,
        fields=changed,
    )
    return hearing
