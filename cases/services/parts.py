"""Writes of a case's parts (SPEC §2): notes (append-only; clinical ones by DMH staff),
missing episodes (and their 24-hour and 72-hour clocks), placements (ended with a date and a
reason; a new one ends the current one), service referrals (which meet the First Responder
Protocol's services clock, and move through their statuses; mental-health ones are clinical),
court hearings (rescheduled, cancelled, held with an outcome) and safety alerts (resolved).
Each starts with `case_for_write`: the actor still sees the case, and may do this on it."""

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

from ..models import (
    Case,
    CourtHearing,
    MissingEpisode,
    Note,
    Placement,
    Referral,
    SafetyAlert,
    Screening,
    ServiceReferral,
)
from ..selectors.visibility import case_get_visible
from ._common import FACT_TIME_LEEWAY, Action, _audit, _fact_time_errors, _forbidden, _save
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


# --- notes -----------------------------------------------------------------------------------------


@transaction.atomic
def case_note_add(
    *,
    case: Case,
    actor: User,
    body: str,
    visibility: str,
    corrects: Note | None = None,
) -> Note:
    """Append a note. Clinical notes only by DMH users on the case (WIC 5328). A correction is a
    new note referencing the original, with the same visibility. A closed case still takes
    notes (SPEC §2)."""
    case, access = case_for_write(case_id=case.pk, actor=actor, closed_ok=True)
    if visibility == Note.Visibility.CLINICAL and not access.can_write_clinical:
        raise _forbidden("Only mental-health (DMH) staff on the case write clinical notes.")
    if corrects is not None:
        if corrects.case_id != case.pk:
            raise ApplicationError("The corrected note is on another case.", fields={"corrects": ["Not on this case."]})
        if corrects.visibility != visibility:
            raise ApplicationError(
                "A correction keeps the visibility of the original.",
                fields={"visibility": [f"Must be {corrects.visibility}."]},
            )
    note = Note(
        case=case, author=actor, author_agency_id=actor.agency_id, visibility=visibility, body=body, corrects=corrects
    )
    note.save()
    _audit(
        actor,
        Action.CREATE,
        "note",
        note,
        case.youth_id,
        case=case.pk,
        visibility=visibility,
        corrects=corrects.pk if corrects else None,
    )
    return note


# --- missing episodes ------------------------------------------------------------------------------

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


# --- placements, services, hearings, alerts --------------------------------------------------------


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
