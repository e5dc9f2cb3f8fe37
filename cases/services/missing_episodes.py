"""Missing episodes of a case (SPEC §2): their facts, the 24-hour clocks of the reports (law
enforcement, NCMEC, the attorney) and the return with its 72-hour debrief (WIC 16501.35) and
screening on return. Each write starts with `case_for_write`: the actor still sees the case,
and may do this on it."""

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

from ..models import Case, MissingEpisode, Screening
from ..selectors.visibility import case_get_visible
from ._common import Action, _audit, _fact_time_errors, _save
from .cases import case_for_write

EPISODE_TIME_FIELDS = (
    "missing_since",
    "learned_at",
    "reported_to_law_enforcement_at",
    "reported_to_ncmec_at",
    "attorney_notified_at",
    "returned_at",
    "return_debrief_at",
)


_EPISODE_OPEN = {
    "learned_at": ["missing_law_enforcement_24h", "missing_ncmec_24h", "missing_attorney_24h"],
    "returned_at": ["return_debrief_72h"],
}
_EPISODE_MEET = {
    "reported_to_law_enforcement_at": "missing_law_enforcement_24h",
    "reported_to_ncmec_at": "missing_ncmec_24h",
    "attorney_notified_at": "missing_attorney_24h",
}
DEBRIEF_RULE = "return_debrief_72h"
#: The return debrief of WIC 16501.35 besides its time (SPEC §2); its clock is met only when
#: every part is recorded (`MissingEpisode.debrief_missing`).
DEBRIEF_TEXT_FIELDS = ("absence_factors", "experiences_while_absent")
DEBRIEF_FIELDS = ("debriefed_by", *DEBRIEF_TEXT_FIELDS, "exploited_while_absent", "return_screening")
#: What a closed case's missing episode still takes: the facts that meet the law's clocks,
#: which stay open after closing (the reports and the return debrief). The episode's own
#: course (missing since, learned, returned) no longer changes.
_CLOSED_CASE_EPISODE_FIELDS = {
    "reported_to_law_enforcement_at",
    "ncic_number",
    "reported_to_ncmec_at",
    "attorney_notified_at",
    "return_debrief_at",
    *DEBRIEF_FIELDS,
}


_EPISODE_TIME_WORDS = {
    "missing_since": "when the youth went missing",
    "learned_at": "when the agency learned the youth was missing",
    "reported_to_law_enforcement_at": "when the youth was reported to law enforcement",
    "reported_to_ncmec_at": "when the youth was reported to NCMEC",
    "attorney_notified_at": "when the youth's attorney was notified",
    "returned_at": "when the youth returned",
    "return_debrief_at": "when the return debrief was held",
    "return_screened_at": "when the youth was screened on return",
}
#: Each report is due from `learned_at` (the 24-hour clocks), the debrief from `returned_at`.
_EPISODE_NOT_BEFORE = {
    "learned_at": ("missing_since",),
    "reported_to_law_enforcement_at": ("learned_at",),
    "reported_to_ncmec_at": ("learned_at",),
    "attorney_notified_at": ("learned_at",),
    "returned_at": ("missing_since",),
    "return_debrief_at": ("returned_at",),
    "return_screened_at": ("returned_at",),
}


def _validate_episode(values: Mapping[str, Any]) -> None:
    """An episode's times are facts (SPEC §2): none in the future, none before the event that
    started its clock; the debrief (any part of it) needs the return first."""
    errors = _fact_time_errors(values, words=_EPISODE_TIME_WORDS, not_before=_EPISODE_NOT_BEFORE)
    if not values.get("returned_at"):
        for name in ("return_debrief_at", *DEBRIEF_FIELDS):
            if values.get(name):
                errors[name] = ["Send returned_at first (or with it): the debrief follows the return."]
    if errors:
        raise ApplicationError("Some times cannot be right; see each field.", fields=errors)


def _debrief_met_at(episode: MissingEpisode) -> dt.datetime | None:
    """When the debrief was recorded as a whole — the later of the debrief and the screening
    on return — or None while a part is missing."""
    if episode.returned_at is None or episode.debrief_missing:
        return None
    screened = episode.return_screening.screened_at if episode.return_screening else None
    return max(t for t in (episode.return_debrief_at, screened) if t is not None)


def _episode_clocks(episode: MissingEpisode, *, before: Mapping[str, Any], actor: Any) -> None:
    for start, rules in _EPISODE_OPEN.items():
        value, old = getattr(episode, start), before.get(start)
        if old is not None and value != old:
            for rule in rules:
                deadlines.deadline_cancel(rule_code=rule, target=episode, reason="clock start corrected", actor=actor)
        if value is not None and value != old:
            for rule in rules:
                deadlines.deadline_open(rule_code=rule, target=episode, starts_at=value, actor=actor)
    for field, rule in _EPISODE_MEET.items():
        value = getattr(episode, field)
        if value is not None and (before.get(field) is None or episode.learned_at != before.get("learned_at")):
            deadlines.deadline_meet(rule_code=rule, target=episode, met_at=value, actor=actor)
    met_at = _debrief_met_at(episode)
    if met_at is not None:
        # Only the whole debrief meets the WIC 16501.35 clock (a no-op once it is met).
        deadlines.deadline_meet(rule_code=DEBRIEF_RULE, target=episode, met_at=met_at, actor=actor)


def _validate_debriefer(*, case: Case, user: Any) -> None:
    """Who debriefed is a person who works the case: an active case worker or supervisor who may
    see it (the same selector as every read)."""
    try:
        if not getattr(user, "is_active", False):
            raise Http404
        case_get_visible(user=user, pk=case.pk)
    except Http404:
        raise ApplicationError(
            "Send the id of the person who held the debrief: someone who works this case.",
            fields={"debriefed_by": ["Not a person who works this case."]},
        ) from None


def _return_screening_save(episode: MissingEpisode, *, data: Mapping[str, Any], actor: Any) -> Screening:
    """Record (or correct) the screening on return: a Screening record of its own, by the
    actor, at the time sent (default now)."""
    screening = episode.return_screening or Screening()
    screening.level = data["level"]
    # No indicators on return: the screener's level is the only one (nothing to suggest).
    screening.suggested_level = data["level"]
    screening.instrument = data["instrument"]
    screening.instrument_version = data.get("instrument_version", "")
    screening.screened_by = actor
    screening.screened_at = data.get("screened_at") or timezone.now()
    _save(screening, actor=actor)
    return screening


def _screening_changed(episode: MissingEpisode, data: Mapping[str, Any] | None) -> bool:
    if data is None:
        return False
    current = episode.return_screening
    if current is None:
        return True
    return any(
        data.get(name, default) != getattr(current, name)
        for name, default in (("level", None), ("instrument", None), ("instrument_version", ""))
    ) or ("screened_at" in data and data["screened_at"] != current.screened_at)


@transaction.atomic
def missing_episode_create(*, case: Case, actor: User, **values: Any) -> MissingEpisode:
    case, _ = case_for_write(case_id=case.pk, actor=actor)
    screening_data = values.pop("return_screening", None)
    debriefer = values.get("debriefed_by")
    if values.get("return_debrief_at") and debriefer is None:
        values["debriefed_by"] = debriefer = actor
    _validate_episode(
        {**values, "return_screened_at": (screening_data or {}).get("screened_at"), "return_screening": screening_data}
    )
    if debriefer is not None:
        _validate_debriefer(case=case, user=debriefer)
    episode = MissingEpisode(case=case, created_by=actor, **values)
    if screening_data:
        episode.return_screening = _return_screening_save(episode, data=screening_data, actor=actor)
    _save(episode, actor=actor)
    _audit(actor, Action.CREATE, "missing_episode", episode, case.youth_id, case=case.pk)
    _episode_clocks(episode, before={}, actor=actor)
    return episode


@transaction.atomic
def missing_episode_update(
    *, episode: MissingEpisode, actor: User, data: Mapping[str, Any], if_match: str | None = None
) -> MissingEpisode:
    """Edit an episode's facts and record its return debrief (If-Match). On a closed case only
    the facts that meet its clocks still go in (409 otherwise)."""
    case, _ = case_for_write(case_id=episode.case_id, actor=actor, closed_ok=True)
    episode = (
        MissingEpisode.objects.select_for_update(of=("self",))
        .select_related("case", "return_screening")
        .get(pk=episode.pk)
    )
    check_if_match(episode, if_match)
    before = {name: getattr(episode, name) for name in EPISODE_TIME_FIELDS}
    data = dict(data)
    screening_data = data.pop("return_screening", None)
    changed = []
    for name in (*EPISODE_TIME_FIELDS, "ncic_number", *DEBRIEF_TEXT_FIELDS, "exploited_while_absent", "debriefed_by"):
        if name in data and getattr(episode, name) != data[name]:
            if name in ("missing_since", "learned_at") and data[name] is None:
                raise ApplicationError("Required.", fields={name: ["This field may not be null."]})
            setattr(episode, name, data[name])
            changed.append(name)
    if _screening_changed(episode, screening_data):
        changed.append("return_screening")
    if episode.return_debrief_at is not None and episode.debriefed_by_id is None:
        episode.debriefed_by = actor  # who records the debrief held it, unless told otherwise
        changed.append("debriefed_by")
    if case.status != Case.Status.OPEN and set(changed) - _CLOSED_CASE_EPISODE_FIELDS:
        raise ApplicationError(
            "The case is closed: a missing episode still takes its reports and its return debrief, nothing else.",
            code="conflict",
        )
    _validate_episode(
        {
            **{n: getattr(episode, n) for n in (*EPISODE_TIME_FIELDS, *DEBRIEF_FIELDS[:-1])},
            "return_screening": screening_data or episode.return_screening_id,
            "return_screened_at": (screening_data or {}).get("screened_at"),
        }
    )
    if "debriefed_by" in changed and episode.debriefed_by is not None:
        _validate_debriefer(case=case, user=episode.debriefed_by)
    if "return_screening" in changed:
        episode.return_screening = _return_screening_save(episode, data=screening_data, actor=actor)
    if changed:
        _save(episode, actor=actor)
    _audit(
        actor, Action.UPDATE, "missing_episode", episode, episode.case.youth_id, case=episode.case_id, fields=changed
    )
    _episode_clocks(episode, before=before, actor=actor)
    return episode
