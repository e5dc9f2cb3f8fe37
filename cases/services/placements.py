"""Placements of a case (SPEC §2): ended with a date and a reason; a new current one ends the
current one. Each write starts with `case_for_write`: the actor still sees the case, and may
do this on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from accounts.models import User
from core.errors import ApplicationError
from core.etags import check_if_match

from ..models import Case, Placement
from ._common import Action, _audit, _forbidden, _save
from .cases import case_for_write


def _ended_placement_errors(*, start_date: dt.date, end_date: dt.date | None) -> dict[str, list[str]]:
    if end_date is not None and end_date < start_date:
        return {"end_date": ["Send the day the placement ended: it cannot be before its start_date."]}
    return {}


@transaction.atomic
def placement_create(
    *,
    case: Case,
    actor: User,
    placement_type: str,
    start_date: dt.date,
    csec_specialized: bool = False,
    address: str = "",
    end_date: dt.date | None = None,
    end_reason: str = "",
) -> Placement:
    """Record a placement. A new current placement (no end_date) ends the current one on its
    start date, with the reason "new placement" (SPEC §2): a youth lives in one place at a time."""
    case, access = case_for_write(case_id=case.pk, actor=actor)
    if address and not access.can_see_protected:
        raise _forbidden("Only the lead agency's case team records a placement address.")
    # A past placement recorded after the fact may come with its end and no known reason; ending
    # a placement (placement_update) always takes one.
    errors = _ended_placement_errors(start_date=start_date, end_date=end_date)
    if errors:
        raise ApplicationError("Some dates cannot be right; see each field.", fields=errors)
    current: list[Placement] = []
    if end_date is None:
        current = list(Placement.objects.select_for_update().filter(case_id=case.pk, end_date__isnull=True))
        if any(p.start_date > start_date for p in current):
            raise ApplicationError(
                "The current placement began after this one: end it first, or send this one's end_date.",
                fields={"start_date": ["Must not be before the start_date of the current placement."]},
            )
    placement = Placement(
        case=case,
        placement_type=placement_type,
        csec_specialized=csec_specialized,
        address=address,
        start_date=start_date,
        end_date=end_date,
        end_reason=end_reason.strip() if end_date else "",
        created_by=actor,
    )
    _save(placement, actor=actor)
    _audit(actor, Action.CREATE, "placement", placement, case.youth_id, case=case.pk, placement_type=placement_type)
    for previous in current:
        previous.end_date = start_date
        previous.end_reason = Placement.NEW_PLACEMENT_REASON
        _save(previous, actor=actor)
        _audit(
            actor,
            Action.UPDATE,
            "placement",
            previous,
            case.youth_id,
            case=case.pk,
            fields=["end_date", "end_reason"],
            ended_by_placement=placement.pk,
        )
    return placement


@transaction.atomic
def placement_update(
    *, placement: Placement, actor: User, data: Mapping[str, Any], if_match: str | None = None
) -> Placement:
    """End a placement (`end_date` and `end_reason`), or correct the end of an ended one. An
    ended placement is not reopened: the youth's next home is a new placement."""
    case_for_write(case_id=placement.case_id, actor=actor)
    placement = Placement.objects.select_for_update().select_related("case").get(pk=placement.pk)
    check_if_match(placement, if_match)
    end_date = data.get("end_date", placement.end_date)
    end_reason = str(data.get("end_reason", placement.end_reason) or "").strip()
    if "end_date" in data and data["end_date"] is None and placement.end_date is not None:
        raise ApplicationError(
            "An ended placement is not reopened: record the youth's new placement instead.",
            fields={"end_date": ["Send the day the placement ended."]},
        )
    errors = _ended_placement_errors(start_date=placement.start_date, end_date=end_date)
    if end_date is None and "end_reason" in data:
        errors["end_date"] = ["Send the day the placement ended with its end_reason."]
    elif end_date is not None and not end_reason:
        errors["end_reason"] = ['Send why the placement ended, e.g. "reunified with parent".']
    if errors:
        raise ApplicationError("The placement cannot end so; see each field.", fields=errors)
    changed = [
        name
        for name, value in (("end_date", end_date), ("end_reason", end_reason))
        if getattr(placement, name) != value
    ]
    for name in changed:
        setattr(placement, name, end_date if name == "end_date" else end_reason)
    if changed:
        _save(placement, actor=actor)
    _audit(
        actor, Action.UPDATE, "placement", placement, placement.case.youth_id, case=placement.case_id, fields=changed
    )
    return placement
