"""Writes of referrals (SPEC §2): log one (for a known youth or a new one), edit it, screen it,
and decide it — accept (open the youth's case, or link to its open case and raise a share
request), decline, mark as a duplicate — opening and meeting the referral's legal clocks
through the notifications interface (SPEC §3) in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from accounts.models import Agency, User
from core.errors import ApplicationError
from core.etags import check_if_match
from core.permissions import CASE_ROLES, role_of
from notifications.services import deadlines

from ..models import Case, CaseTeamMember, Referral, Screening, ServiceReferral, Youth
from ..permissions import can_decide_referral, is_case_supervisor
from ..selectors.parts import indicator_codes_active
from ..selectors.visibility import referral_get_visible
from . import sharing
from ._common import FACT_TIME_LEEWAY, Action, _audit, _fact_time_errors, _forbidden, _lock, _require_case_role, _save
from .cases import _case_open, _team_add
from .youth import youth_create

REFERRAL_CLOCK_FIELDS = (
    "information_received_at",
    "hotline_reported_at",
    "written_report_submitted_at",
    "recovered_at",
    "responder_arrived_at",
    "law_enforcement_notified_at",
)
#: Indicators that on their own point strongly at exploitation (county fact sheet).
STRONG_INDICATORS = frozenset({"controlling_older_partner", "tattoos_or_branding", "unexplained_money_or_gifts"})


def _transition(obj: Any, name: str) -> None:
    try:
        getattr(obj, name)()
    except TransitionNotAllowed as exc:
        raise ApplicationError(f"Not allowed while the referral is {obj.status}.", code="conflict") from exc


def suggested_level(*, indicators: Iterable[str], source: str) -> str:
    """The screening level the indicators suggest; the screener decides."""
    codes = set(indicators)
    strong = len(codes & STRONG_INDICATORS)
    if source == Referral.Source.LAW_ENFORCEMENT_RECOVERY or len(codes) >= 3 or strong >= 2:
        return Screening.Level.CLEAR_CONCERN
    if codes:
        return Screening.Level.POSSIBLE_CONCERN
    return Screening.Level.NO_CONCERN


def _validate_indicators(indicators: Iterable[str], *, carried: Iterable[str] = ()) -> list[str]:
    """The codes, each once; an unknown or deactivated code answers 400 naming the valid ones
    (SPEC §2: the active codes of `GET /api/v1/indicator-codes/`). A code the referral already
    `carried` stays allowed after it was deactivated: an edit need not drop what was recorded."""
    codes = list(dict.fromkeys(indicators))
    active = indicator_codes_active()
    unknown = sorted(set(codes) - active - set(carried))
    if unknown:
        valid = ", ".join(sorted(active)) or "none (ask a system admin to add them)"
        raise ApplicationError(
            f"Unknown indicator codes. Send codes from GET /api/v1/indicator-codes/: {valid}.",
            fields={"indicators": [f"Unknown code: {c}. Valid codes: {valid}." for c in unknown]},
        )
    return codes


#: What each referral time is, in the words of a field message.
_REFERRAL_TIME_WORDS = {
    "information_received_at": "when the reporter learned of the abuse",
    "hotline_reported_at": "the time of the telephone report",
    "written_report_submitted_at": "when the written report (SS 8572) was submitted",
    "recovered_at": "the time of the recovery",
    "responder_arrived_at": "when the responder arrived",
    "law_enforcement_notified_at": "when law enforcement was notified",
}
#: A fact and the events before which it cannot have happened: the event that started its
#: clock (and, for the written report, the telephone report it follows up).
_REFERRAL_NOT_BEFORE = {
    "hotline_reported_at": ("information_received_at",),
    "written_report_submitted_at": ("information_received_at", "hotline_reported_at"),
    "responder_arrived_at": ("recovered_at",),
    "law_enforcement_notified_at": ("information_received_at",),
}


def _validate_clocks(values: Mapping[str, Any]) -> None:
    """The referral's clock times are facts (SPEC §2): none in the future, none before the event
    that started its clock — a stated time never moves a legal clock."""
    errors = _fact_time_errors(values, words=_REFERRAL_TIME_WORDS, not_before=_REFERRAL_NOT_BEFORE)
    if errors:
        raise ApplicationError("Some times cannot be right; see each field.", fields=errors)


#: The clocks of the First Responder Protocol: a declined or duplicate referral can no longer
#: meet them (SPEC §2). The reporting duties of the law stay open.
FRP_RULES = ("first_response_90m", "frp_services_72h")
#: The reporting duties of the law: they outlive the referral's decision.
REPORTING_RULES = ("written_report_36h", "law_enforcement_report_24h")
#: The clocks a declined or duplicate referral settles, in order.
REFERRAL_RULES = (*REPORTING_RULES, *FRP_RULES)


def _written_report_start(values: Mapping[str, Any]) -> dt.datetime | None:
    """PC 11166(a): 36 hours from receiving the information; when that time is not given, from
    the telephone report (SPEC §3)."""
    return values.get("information_received_at") or values.get("hotline_reported_at")


def _referred_by_law_enforcement(referral: Referral) -> bool:
    """The report came from a law-enforcement agency: there is no one to report it to."""
    return referral.referring_agency.kind == Agency.Kind.LAW_ENFORCEMENT


def _referral_clocks(referral: Referral, *, before: Mapping[str, Any], actor: Any) -> None:
    """Open and meet the referral's legal clocks for the timestamps newly set (or corrected).
    A timestamp that already meets its clock at creation opens it and meets it at once. A
    declined or duplicate referral opens no First Responder Protocol clock (they were settled)."""

    def newly(name: str) -> bool:
        return getattr(referral, name) is not None and before.get(name) is None

    def moved(name: str) -> bool:
        return before.get(name) is not None and getattr(referral, name) != before.get(name)

    settled = referral.status in (Referral.Status.DECLINED, Referral.Status.DUPLICATE)
    starts = {
        "written_report_36h": (
            _written_report_start(before),
            _written_report_start({n: getattr(referral, n) for n in REFERRAL_CLOCK_FIELDS}),
        ),
        **{rule: (before.get("recovered_at"), referral.recovered_at) for rule in FRP_RULES},
    }
    for rule, (was, now) in starts.items():
        if was is not None and now != was:
            deadlines.deadline_cancel(rule_code=rule, target=referral, reason="clock start corrected", actor=actor)
        if now is not None and now != was and not (settled and rule in FRP_RULES):
            deadlines.deadline_open(rule_code=rule, target=referral, starts_at=now, actor=actor)
    meets = (
        ("written_report_submitted_at", "written_report_36h"),
        ("responder_arrived_at", "first_response_90m"),
        ("law_enforcement_notified_at", "law_enforcement_report_24h"),
    )
    for field, rule in meets:
        was, now = starts.get(rule, (None, None))
        restarted = was is not None and now != was  # the clock was re-opened: the fact meets it again
        if newly(field) or (getattr(referral, field) is not None and restarted):
            deadlines.deadline_meet(rule_code=rule, target=referral, met_at=getattr(referral, field), actor=actor)
    if referral.recovered_at and referral.case_id and (newly("recovered_at") or moved("recovered_at")):
        _frp_services_meet_if_recorded(referral, actor=actor)


def _settle_clocks(referral: Referral, *, actor: Any) -> None:
    """A declined or duplicate referral settles its clocks (SPEC §2): a duplicate's clock is
    superseded where the original referral has the same clock outstanding; the First Responder
    Protocol's clocks, which can no longer be met, close as not applicable; the reporting
    duties of the law stay open. The reason is the decision, never the decline's free text."""
    declined = referral.status == Referral.Status.DECLINED
    reason = "referral declined" if declined else "referral marked a duplicate"
    original = None if declined else referral.duplicate_of
    for rule in REFERRAL_RULES:
        carrier = deadlines.deadline_outstanding(rule_code=rule, target=original) if original is not None else None
        if carrier is not None:
            deadlines.deadline_settle(
                rule_code=rule,
                target=referral,
                status="superseded",
                superseded_by=carrier,
                reason=f"referral marked a duplicate of R-{original.pk}",
                actor=actor,
            )
        elif rule in FRP_RULES:
            deadlines.deadline_settle(
                rule_code=rule, target=referral, status="not_applicable", reason=reason, actor=actor
            )


def _frp_services_meet_if_recorded(referral: Referral, *, actor: Any) -> None:
    """Meet the 72-hour services clock with the first service referred since the recovery —
    one that has happened: a service dated in the future meets nothing yet."""
    first = (
        ServiceReferral.objects.filter(
            case_id=referral.case_id,
            referred_at__gte=referral.recovered_at,
            referred_at__lte=timezone.now() + FACT_TIME_LEEWAY,
        )
        .order_by("referred_at")
        .first()
    )
    if first is not None:
        deadlines.deadline_meet(rule_code="frp_services_72h", target=referral, met_at=first.referred_at, actor=actor)


@transaction.atomic
def referral_create(
    *,
    actor: User,
    youth: Youth | None = None,
    youth_data: Mapping[str, Any] | None = None,
    receiving_agency: Agency | None = None,
    received_at: dt.datetime,
    source: str,
    indicators: Iterable[str] = (),
    narrative: str = "",
    information_received_at: dt.datetime | None = None,
    hotline_reported_at: dt.datetime | None = None,
    written_report_submitted_at: dt.datetime | None = None,
    recovered_at: dt.datetime | None = None,
    responder_arrived_at: dt.datetime | None = None,
    law_enforcement_notified_at: dt.datetime | None = None,
) -> Referral:
    """Log a referral for an existing youth (already checked visible) or an inline new youth."""
    _require_case_role(actor)
    if (youth is None) == (youth_data is None):
        raise ApplicationError("Give a youth id or a youth.", fields={"youth": ["Required."]})
    if receiving_agency is None:
        receiving_agency = Agency.objects.filter(code="DCFS").first()
        if receiving_agency is None:
            raise ApplicationError("No receiving agency.", fields={"receiving_agency": ["Required."]})
    clocks = {
        "information_received_at": information_received_at,
        "hotline_reported_at": hotline_reported_at,
        "written_report_submitted_at": written_report_submitted_at,
        "recovered_at": recovered_at,
        "responder_arrived_at": responder_arrived_at,
        "law_enforcement_notified_at": law_enforcement_notified_at,
    }
    _validate_clocks(clocks)
    if clocks["law_enforcement_notified_at"] is None and actor.agency.kind == Agency.Kind.LAW_ENFORCEMENT:
        # SPEC §3: the report came from law enforcement; it was notified when the referral came in.
        clocks["law_enforcement_notified_at"] = received_at
    codes = _validate_indicators(indicators)
    if youth is None:
        youth = youth_create(actor=actor, **dict(youth_data or {}))
    elif youth.merged_into_id:
        raise ApplicationError(
            "That youth record was merged into another.", fields={"youth": ["Use the merged record."]}
        )
    referral = Referral(
        youth=youth,
        referring_agency_id=actor.agency_id,
        receiving_agency=receiving_agency,
        created_by=actor,
        received_at=received_at,
        source=source,
        indicators=codes,
        narrative=narrative,
        **clocks,
    )
    _save(referral, actor=actor)
    _audit(actor, Action.CREATE, "referral", referral, youth.pk, source=source, receiving_agency=receiving_agency.code)
    _referral_clocks(referral, before={}, actor=actor)
    return referral


REFERRAL_EDITABLE = ("received_at", "source", "indicators", "narrative", *REFERRAL_CLOCK_FIELDS)


REFERRAL_DECIDED = frozenset({Referral.Status.ACCEPTED, Referral.Status.DECLINED, Referral.Status.DUPLICATE})


def referral_can_edit(*, user: Any, referral: Referral) -> bool:
    """SPEC §1: a referral is edited by its creator until it is decided (while still of the
    referring agency), and by the receiving agency's supervisors after; by nobody else."""
    if role_of(user) not in CASE_ROLES or not user.agency_id:
        return False
    if referral.status in REFERRAL_DECIDED:
        return is_case_supervisor(user) and user.agency_id == referral.receiving_agency_id
    return referral.created_by_id == user.pk and user.agency_id == referral.referring_agency_id


@transaction.atomic
def referral_update(
    *, referral: Referral, actor: User, data: Mapping[str, Any], if_match: str | None = None
) -> Referral:
    """Edit a referral: the actor must still see it (404), and may edit it (403) by the rule of
    `referral_can_edit`, judged on the locked row (a decision in between counts)."""
    referral_get_visible(user=actor, pk=referral.pk)
    referral = _lock(Referral, referral.pk)
    if not referral_can_edit(user=actor, referral=referral):
        raise _forbidden(
            "A referral is edited by its creator until it is decided, and by the receiving agency's supervisors after."
        )
    check_if_match(referral, if_match)
    before = {name: getattr(referral, name) for name in REFERRAL_CLOCK_FIELDS}
    changed = []
    for name in REFERRAL_EDITABLE:
        if name in data:
            value = (
                _validate_indicators(data[name], carried=referral.indicators) if name == "indicators" else data[name]
            )
            if getattr(referral, name) != value:
                setattr(referral, name, value)
                changed.append(name)
    _validate_clocks({n: getattr(referral, n) for n in REFERRAL_CLOCK_FIELDS})
    if changed:
        _save(referral, actor=actor)
    _audit(actor, Action.UPDATE, "referral", referral, referral.youth_id, fields=changed)
    _referral_clocks(referral, before=before, actor=actor)
    return referral


def _decision_lock(referral: Referral, actor: User) -> Referral:
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if not can_decide_referral(actor, referral):
        raise _forbidden("Only a supervisor of the receiving agency decides on a referral.")
    return referral


@transaction.atomic
def referral_screen(
    *, referral: Referral, actor: User, level: str, instrument: str, instrument_version: str = ""
) -> Screening:
    referral = _decision_lock(referral, actor)
    _transition(referral, "screen")
    now = timezone.now()
    screening = Screening.objects.filter(referral=referral).first()
    previous_level = screening.level if screening else None
    if screening is None:
        screening = Screening(referral=referral)
    screening.level = level
    screening.suggested_level = suggested_level(indicators=referral.indicators, source=referral.source)
    screening.instrument = instrument
    screening.instrument_version = instrument_version
    screening.screened_by = actor
    screening.screened_at = now
    _save(screening, actor=actor)
    _save(referral, actor=actor)
    _audit(actor, Action.TRANSITION, "referral", referral, referral.youth_id, to="screening", level=level)
    clear = Screening.Level.CLEAR_CONCERN
    if level == clear and previous_level != clear and not _referred_by_law_enforcement(referral):
        deadlines.deadline_open(rule_code="law_enforcement_report_24h", target=referral, starts_at=now, actor=actor)
        if referral.law_enforcement_notified_at:
            deadlines.deadline_meet(
                rule_code="law_enforcement_report_24h",
                target=referral,
                met_at=referral.law_enforcement_notified_at,
                actor=actor,
            )
    elif previous_level == clear and level != clear:
        deadlines.deadline_cancel(
            rule_code="law_enforcement_report_24h", target=referral, reason="screened again", actor=actor
        )
    return screening


@transaction.atomic
def referral_accept(*, referral: Referral, actor: User, youth: Youth | None = None) -> Referral:
    """Accept: open the youth's case with the receiving agency as lead, or link the referral to
    the youth's open case. Accepting grants nothing (SPEC §1 "Sharing has one door"): linking to
    a case another agency leads raises a share request for the receiving agency, and the
    referring agency keeps sight of its own referral only. The referring worker joins the case
    team only when their agency leads the case. Under a row lock: of two concurrent accepts
    exactly one wins.

    `youth` (already checked visible to the actor) is an existing record the supervisor chose
    among the possible duplicates (SPEC §2): the referral is linked to it instead of the record
    it was created with, which stays as it is (a merge, with its own rights, brings them
    together)."""
    referral = _decision_lock(referral, actor)
    _transition(referral, "accept")
    now = timezone.now()
    if youth is not None and youth.pk != referral.youth_id:
        _relink_youth(referral, youth, actor=actor)
    Youth.objects.select_for_update().filter(pk=referral.youth_id).first()  # one open case per youth
    case = Case.objects.select_for_update().filter(youth_id=referral.youth_id, status=Case.Status.OPEN).first()
    opened = case is None
    if case is None:
        case = _case_open(youth=referral.youth, lead_agency=referral.receiving_agency, actor=actor, now=now)
    creator = referral.created_by
    if (
        creator.is_active
        and role_of(creator) in CASE_ROLES
        and creator.agency_id == case.lead_agency_id
        and not CaseTeamMember.objects.filter(case=case, user=creator, removed_at__isnull=True).exists()
    ):
        _team_add(case=case, user=creator, case_role="referring_worker", actor=actor)
    referral.case = case
    _save(referral, actor=actor)
    _audit(actor, Action.TRANSITION, "referral", referral, referral.youth_id, to="accepted", case=case.pk)
    if not opened:
        sharing.share_request_raise(case=case, referral=referral, actor=actor)
    if referral.recovered_at:
        _frp_services_meet_if_recorded(referral, actor=actor)
    return referral


def _relink_youth(referral: Referral, youth: Youth, *, actor: User) -> None:
    """Point the (locked) referral at the chosen youth record, audited for both children's
    records (the one it leaves and the one it joins), ids only."""
    chosen = Youth.objects.select_for_update().get(pk=youth.pk)
    if chosen.merged_into_id:
        raise ApplicationError(
            "That youth record was merged into another.", fields={"youth": ["Use the merged record."]}
        )
    previous = referral.youth_id
    referral.youth = chosen
    _audit(actor, Action.UPDATE, "referral", referral, previous, fields=["youth"], youth_to=chosen.pk)
    _audit(actor, Action.UPDATE, "referral", referral, chosen.pk, fields=["youth"], youth_from=previous)


@transaction.atomic
def referral_decline(*, referral: Referral, actor: User, reason: str) -> Referral:
    referral = _decision_lock(referral, actor)
    _transition(referral, "decline")
    referral.decline_reason = reason
    _save(referral, actor=actor)
    _audit(actor, Action.TRANSITION, "referral", referral, referral.youth_id, to="declined")
    _settle_clocks(referral, actor=actor)
    return referral


@transaction.atomic
def referral_mark_duplicate(*, referral: Referral, actor: User, duplicate_of: Referral | None = None) -> Referral:
    referral = _decision_lock(referral, actor)
    if duplicate_of is not None and duplicate_of.pk == referral.pk:
        raise ApplicationError(
            "A referral cannot duplicate itself.", fields={"duplicate_of": ["Must be another referral."]}
        )
    _transition(referral, "mark_duplicate")
    referral.duplicate_of = duplicate_of
    _save(referral, actor=actor)
    _audit(
        actor,
        Action.TRANSITION,
        "referral",
        referral,
        referral.youth_id,
        to="duplicate",
        duplicate_of=duplicate_of.pk if duplicate_of else None,
    )
    _settle_clocks(referral, actor=actor)
    return referral
