"""Every write about youth, referrals, cases and their parts (SPEC §2).

Each service is keyword-only, runs in one transaction, checks what the actor may do (403) on
an object the API already found visible (404 otherwise), writes the audit event with the youth
it concerns inside the same transaction, and opens / meets the legal clocks through the
notifications interface (SPEC §3) in that transaction too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import ApplicationError
from core.etags import check_if_match
from core.permissions import CASE_ROLES, role_of
from notifications import services as deadlines

from . import matching, sharing
from .crypto import blind_index
from .models import (
    Case,
    CaseAgency,
    CaseNumberSequence,
    CaseTeamMember,
    CourtHearing,
    MissingEpisode,
    Note,
    Placement,
    Referral,
    SafetyAlert,
    Screening,
    ServiceReferral,
    Youth,
    YouthExternalId,
    YouthMerge,
    YouthSearchKey,
)
from .permissions import (
    CaseAccess,
    RecordCharge,
    can_decide_referral,
    can_edit_youth_identity,
    can_merge_youth,
    is_case_supervisor,
    may_merge_record,
)
from .selectors import (
    agency_participates,
    case_access,
    case_get_visible,
    indicator_codes_active,
    participation_active_q,
    referral_get_visible,
    youth_ids_visible_among,
)

Action = AuditEvent.Action

#: WIC 18961.7 county MDT sharing (kept here for callers; the rules live in cases/sharing.py).
MDT_SHARING_PERIOD = sharing.MDT_SHARING_PERIOD
REFERRAL_CLOCK_FIELDS = (
    "hotline_reported_at",
    "written_report_submitted_at",
    "recovered_at",
    "responder_arrived_at",
    "law_enforcement_notified_at",
)
EPISODE_TIME_FIELDS = (
    "missing_since",
    "learned_at",
    "reported_to_law_enforcement_at",
    "reported_to_ncmec_at",
    "attorney_notified_at",
    "returned_at",
    "return_debrief_at",
)
#: Indicators that on their own point strongly at exploitation (county fact sheet).
STRONG_INDICATORS = frozenset({"controlling_older_partner", "tattoos_or_branding", "unexplained_money_or_gifts"})


# --- helpers ---------------------------------------------------------------------------------------


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="forbidden")


def _save(obj: Any, *, actor: Any, **kwargs: Any) -> None:
    """Save, recording `actor` as the author of the history row (outside a request too)."""
    obj._history_user = actor if getattr(actor, "pk", None) else None
    obj.save(**kwargs)


def _audit(actor: Any, action: str, object_type: str, obj: Any, youth_id: int | None, **detail: Any) -> None:
    audit_record(
        actor=actor, action=action, object_type=object_type, object_id=obj.pk, youth_id=youth_id, detail=detail
    )


def _lock(model: type, pk: int) -> Any:
    return model.objects.select_for_update().get(pk=pk)


def _transition(obj: Any, name: str) -> None:
    try:
        getattr(obj, name)()
    except TransitionNotAllowed as exc:
        raise ApplicationError(f"Not allowed while the referral is {obj.status}.", code="conflict") from exc


# --- youth -----------------------------------------------------------------------------------------

YOUTH_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "aliases",
    "gender_identity",
    "gender_identity_detail",
    "pronouns",
    "preferred_language",
)


def _clean_aliases(aliases: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for alias in aliases or []:
        alias = " ".join(str(alias).split())
        if alias and alias not in out:
            out.append(alias)
    return out


def youth_index(youth: Youth) -> None:
    """Recompute the blind indexes of a youth (before saving it)."""
    youth.first_name_bidx = blind_index(youth.first_name)
    youth.last_name_bidx = blind_index(youth.last_name)
    youth.date_of_birth_bidx = blind_index(youth.date_of_birth)


def youth_search_keys_sync(youth: Youth) -> None:
    """Replace the youth's duplicate-search keys (after saving it)."""
    keys = matching.search_keys(
        first_name=youth.first_name,
        last_name=youth.last_name,
        date_of_birth=youth.date_of_birth,
        aliases=youth.aliases or [],
    )
    YouthSearchKey.objects.filter(youth=youth).delete()
    YouthSearchKey.objects.bulk_create([YouthSearchKey(youth=youth, kind=kind, key=key) for kind, key in sorted(keys)])


def _external_ids_set(*, youth: Youth, external_ids: Iterable[Mapping[str, Any]], actor: Any, replace: bool) -> None:
    wanted = []
    for item in external_ids:
        value = str(item["value"]).strip()
        wanted.append((item["agency"], item.get("kind", "") or "", value, blind_index(value)))
    if replace:
        keep = {(a.pk, b) for a, _, _, b in wanted}
        for existing in YouthExternalId.objects.filter(youth=youth):
            if (existing.agency_id, existing.value_bidx) not in keep:
                existing._history_user = actor
                existing.delete()
    for agency, kind, value, bidx in wanted:
        clash = YouthExternalId.objects.filter(agency=agency, value_bidx=bidx).first()
        if clash is not None:
            if clash.youth_id != youth.pk:
                raise ApplicationError(
                    "That agency's number is already recorded for another youth record.",
                    fields={"external_ids": [f"{agency.code} number already in use."]},
                )
            continue
        _save(YouthExternalId(youth=youth, agency=agency, kind=kind, value=value, value_bidx=bidx), actor=actor)


def _require_case_role(actor: Any) -> None:
    if role_of(actor) not in CASE_ROLES or not actor.agency_id or not actor.is_active:
        raise _forbidden("Your role has no access to case data.")


def _youth_visible_or_404(*, actor: Any, youth_ids: Iterable[int]) -> None:
    """A write re-checks, inside its transaction, that the actor still sees the records it
    names — through the selectors, the same rule as the read (404 otherwise)."""
    wanted = set(youth_ids)
    if not wanted <= youth_ids_visible_among(user=actor, ids=sorted(wanted)):
        raise Http404


def _open_cases(youth_id: int, *, among: Iterable[int] | None = None, excluding: Iterable[int] = ()) -> list[Case]:
    cases = Case.objects.filter(youth_id=youth_id, status=Case.Status.OPEN)
    if among is not None:
        cases = cases.filter(id__in=list(among))
    return list(cases.exclude(id__in=list(excluding)).order_by("id"))


def _record_charge(*, holding_agency_id: int, open_cases: list[Case]) -> RecordCharge:
    """Who has a record in their charge (SPEC §2): the lead of its open case(s), else its
    holding agency; and who the lead has shared the open case with (active participations)."""
    if not open_cases:
        return RecordCharge(agency_ids=frozenset({holding_agency_id}))
    shared = (
        CaseAgency.objects.filter(participation_active_q(), case_id__in=[c.pk for c in open_cases])
        .exclude(legal_basis=CaseAgency.LegalBasis.LEAD)
        .values_list("agency_id", flat=True)
    )
    return RecordCharge(agency_ids=frozenset(c.lead_agency_id for c in open_cases), shared_with=frozenset(shared))


@transaction.atomic
def youth_create(
    *,
    actor: User,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date | None = None,
    aliases: Iterable[str] | None = None,
    gender_identity: str = Youth.GenderIdentity.NOT_STATED,
    gender_identity_detail: str = "",
    pronouns: str = "",
    preferred_language: str = "",
    external_ids: Iterable[Mapping[str, Any]] = (),
) -> Youth:
    _require_case_role(actor)
    youth = Youth(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        aliases=_clean_aliases(aliases),
        gender_identity=gender_identity,
        gender_identity_detail=gender_identity_detail,
        pronouns=pronouns,
        preferred_language=preferred_language,
        holding_agency_id=actor.agency_id,
        created_by=actor,
    )
    youth_index(youth)
    _save(youth, actor=actor)
    youth_search_keys_sync(youth)
    _external_ids_set(youth=youth, external_ids=external_ids, actor=actor, replace=False)
    _audit(actor, Action.CREATE, "youth", youth, youth.pk)
    return youth


@transaction.atomic
def youth_update(*, youth: Youth, actor: User, data: Mapping[str, Any], if_match: str | None = None) -> Youth:
    """Edit a youth record. The actor must still see it (404) and hold the identity right of
    SPEC §1 (403): the lead agency's case team and supervisors of the open case, or the holding
    agency (its supervisors, the creator while its case worker) when there is no open case."""
    _youth_visible_or_404(actor=actor, youth_ids=[youth.pk])
    youth = _lock(Youth, youth.pk)
    accesses = [case_access(user=actor, case=case) for case in _open_cases(youth.pk)]
    if not can_edit_youth_identity(actor, youth=youth, open_cases=accesses):
        raise _forbidden(
            "A youth record is edited by the lead agency's case team and supervisors of its open case, "
            "or by the agency holding it when it has no open case."
        )
    check_if_match(youth, if_match)
    if youth.merged_into_id:
        raise ApplicationError("This record was merged into another; edit that one.", code="conflict")
    changed = []
    for name in YOUTH_FIELDS:
        if name not in data:
            continue
        value = _clean_aliases(data[name]) if name == "aliases" else data[name]
        if isinstance(value, str):
            value = value.strip()
        if getattr(youth, name) != value:
            setattr(youth, name, value)
            changed.append(name)
    if "external_ids" in data:
        _external_ids_set(youth=youth, external_ids=data["external_ids"], actor=actor, replace=True)
        changed.append("external_ids")
    if changed:
        # Saved even when only the external ids changed, so the ETag moves on.
        youth_index(youth)
        _save(youth, actor=actor)
        youth_search_keys_sync(youth)
    _audit(actor, Action.UPDATE, "youth", youth, youth.pk, fields=changed)
    return youth


_MERGE_REFUSED = (
    "Merging needs both records in your agency's charge (it leads the open case, or holds a record "
    "with no open case), or shared with your agency by the agency that has it in its charge."
)


@transaction.atomic
def youth_merge(*, source: Youth, target: Youth, actor: User) -> YouthMerge:
    """Fold the duplicate record `source` into `target`: its referrals, cases and external ids
    move to `target`, and `source` is marked merged (kept, with its history, and reversible).

    SPEC §2: a supervisor whose agency has both records in its charge — for each record, the
    agency leads its open case or holds it when it has no open case, or the agency in charge has
    shared that open case with the supervisor's agency. So a decoy record of one's own agency
    never absorbs (nor is absorbed by) a record in another agency's charge that was not shared."""
    _youth_visible_or_404(actor=actor, youth_ids=[source.pk, target.pk])
    if not can_merge_youth(actor):
        raise _forbidden("Only a supervisor merges youth records.")
    if source.pk == target.pk:
        raise ApplicationError("A record cannot be merged into itself.", fields={"into": ["Must be another youth."]})
    first, second = sorted([source.pk, target.pk])
    locked = {y.pk: y for y in Youth.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise ApplicationError("One of these records is already merged.", code="conflict")
    for record in (source, target):
        charge = _record_charge(holding_agency_id=record.holding_agency_id, open_cases=_open_cases(record.pk))
        if not may_merge_record(actor, charge):
            raise _forbidden(_MERGE_REFUSED)
    if (
        Case.objects.filter(youth_id=source.pk, status=Case.Status.OPEN).exists()
        and Case.objects.filter(youth_id=target.pk, status=Case.Status.OPEN).exists()
    ):
        raise ApplicationError("Both records have an open case; close one first.", code="conflict")
    moved = {
        "referrals": list(Referral.objects.filter(youth_id=source.pk).values_list("id", flat=True)),
        "cases": list(Case.objects.filter(youth_id=source.pk).values_list("id", flat=True)),
        "external_ids": list(YouthExternalId.objects.filter(youth_id=source.pk).values_list("id", flat=True)),
    }
    for model, ids in (
        (Referral, moved["referrals"]),
        (Case, moved["cases"]),
        (YouthExternalId, moved["external_ids"]),
    ):
        for obj in model.objects.filter(id__in=ids):
            obj.youth_id = target.pk
            _save(obj, actor=actor)
    source.merged_into = target
    _save(source, actor=actor)
    merge = YouthMerge.objects.create(
        source=source, target=target, merged_by=actor, merged_at=timezone.now(), moved=moved
    )
    for youth_id in (source.pk, target.pk):
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type="youth_merge",
            object_id=merge.pk,
            youth_id=youth_id,
            detail={"source": source.pk, "target": target.pk, **{k: v for k, v in moved.items()}},
        )
    return merge


@transaction.atomic
def youth_unmerge(*, source: Youth, actor: User) -> YouthMerge:
    """Undo the active merge of `source`: what was moved (and still sits on the target) goes back.

    By a supervisor with the merge right over both records as they stand now and would stand
    after: the source with the cases that go back to it, the target with what stays.

    A merged record stands for the record it was merged into: the source may have become
    invisible to the supervisor who merged it (its cases moved away), so seeing the target is
    enough to reach it — but one who sees neither, or sees only the target and may not undo the
    merge, learns nothing of the source (404). `source` is read here by id only."""
    source_visible = bool(youth_ids_visible_among(user=actor, ids=[source.pk]))
    source = Youth.objects.select_for_update().filter(pk=source.pk).first()
    if source is None:
        raise Http404
    merge = YouthMerge.objects.select_for_update().filter(source_id=source.pk, unmerged_at__isnull=True).first()
    target_visible = merge is not None and bool(youth_ids_visible_among(user=actor, ids=[merge.target_id]))
    if not source_visible and not target_visible:
        raise Http404
    if not can_merge_youth(actor):
        raise Http404 if not source_visible else _forbidden("Only a supervisor un-merges youth records.")
    if merge is None or source.merged_into_id is None:
        raise ApplicationError("This record is not merged.", code="conflict")
    if not target_visible:
        raise _forbidden(_MERGE_REFUSED)
    target_id = merge.target_id
    target = _lock(Youth, target_id)
    moved_case_ids = merge.moved.get("cases", [])
    source_after = _open_cases(source.pk) + _open_cases(target_id, among=moved_case_ids)
    target_after = _open_cases(target_id, excluding=moved_case_ids)
    for holding_agency_id, open_cases in (
        (source.holding_agency_id, source_after),
        (target.holding_agency_id, target_after),
    ):
        if not may_merge_record(actor, _record_charge(holding_agency_id=holding_agency_id, open_cases=open_cases)):
            raise Http404 if not source_visible else _forbidden(_MERGE_REFUSED)
    moved_cases = Case.objects.filter(id__in=merge.moved.get("cases", []), youth_id=target_id)
    if (
        moved_cases.filter(status=Case.Status.OPEN).exists()
        and Case.objects.filter(youth_id=source.pk, status=Case.Status.OPEN).exists()
    ):
        raise ApplicationError("Both records would have an open case.", code="conflict")
    for model, key in ((Referral, "referrals"), (Case, "cases"), (YouthExternalId, "external_ids")):
        for obj in model.objects.filter(id__in=merge.moved.get(key, []), youth_id=target_id):
            obj.youth_id = source.pk
            _save(obj, actor=actor)
    source.merged_into = None
    _save(source, actor=actor)
    merge.unmerged_by = actor
    merge.unmerged_at = timezone.now()
    merge.save(update_fields=["unmerged_by", "unmerged_at"])
    for youth_id in (source.pk, target_id):
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type="youth_merge",
            object_id=merge.pk,
            youth_id=youth_id,
            detail={"source": source.pk, "target": target_id, "unmerged": True},
        )
    return merge


# --- referrals -------------------------------------------------------------------------------------


def suggested_level(*, indicators: Iterable[str], source: str) -> str:
    """The screening level the indicators suggest; the screener decides."""
    codes = set(indicators)
    strong = len(codes & STRONG_INDICATORS)
    if source == Referral.Source.LAW_ENFORCEMENT_RECOVERY or len(codes) >= 3 or strong >= 2:
        return Screening.Level.CLEAR_CONCERN
    if codes:
        return Screening.Level.POSSIBLE_CONCERN
    return Screening.Level.NO_CONCERN


def _validate_indicators(indicators: Iterable[str]) -> list[str]:
    codes = list(dict.fromkeys(indicators))
    unknown = sorted(set(codes) - indicator_codes_active())
    if unknown:
        raise ApplicationError(
            "Unknown indicator codes.", fields={"indicators": [f"Unknown code: {c}" for c in unknown]}
        )
    return codes


#: How far ahead of our clock a stated fact time may be (a device clock a little fast); beyond
#: it the fact has not happened yet (SPEC §2 "Fact times").
FACT_TIME_LEEWAY = dt.timedelta(minutes=5)

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


def _fact_time_errors(
    values: Mapping[str, Any], *, words: Mapping[str, str], not_before: Mapping[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Field messages for the times in `values` that cannot be true: in the future (beyond
    FACT_TIME_LEEWAY), or before an event that must come first. The messages say what to send
    and carry no value."""
    latest = timezone.now() + FACT_TIME_LEEWAY
    errors: dict[str, list[str]] = {}
    for name, what in words.items():
        value = values.get(name)
        if value is None:
            continue
        if value > latest:
            errors[name] = [f"Send {what} as it happened: it cannot be in the future."]
            continue
        for earlier in not_before.get(name, ()):
            start = values.get(earlier)
            if start is not None and value < start:
                errors[name] = [f"Send {what}: it cannot be before {earlier} ({words.get(earlier, earlier)})."]
                break
    return errors


def _validate_clocks(values: Mapping[str, Any]) -> None:
    """The referral's clock times are facts (SPEC §2): none in the future, none before the event
    that started its clock — a stated time never moves a legal clock."""
    errors = _fact_time_errors(values, words=_REFERRAL_TIME_WORDS, not_before=_REFERRAL_NOT_BEFORE)
    if errors:
        raise ApplicationError("Some times cannot be right; see each field.", fields=errors)


def _referral_clocks(referral: Referral, *, before: Mapping[str, Any], actor: Any) -> None:
    """Open and meet the referral's legal clocks for the timestamps newly set (or corrected).
    A timestamp that already meets its clock at creation opens it and meets it at once."""

    def newly(name: str) -> bool:
        return getattr(referral, name) is not None and before.get(name) is None

    def moved(name: str) -> bool:
        return before.get(name) is not None and getattr(referral, name) != before.get(name)

    for start, rules in (
        ("hotline_reported_at", ["written_report_36h"]),
        ("recovered_at", ["first_response_90m", "frp_services_72h"]),
    ):
        if moved(start):
            for rule in rules:
                deadlines.deadline_cancel(rule_code=rule, target=referral, reason="clock start corrected", actor=actor)
        if newly(start) or (moved(start) and getattr(referral, start) is not None):
            for rule in rules:
                deadlines.deadline_open(
                    rule_code=rule, target=referral, starts_at=getattr(referral, start), actor=actor
                )
    meets = (
        ("written_report_submitted_at", "written_report_36h"),
        ("responder_arrived_at", "first_response_90m"),
        ("law_enforcement_notified_at", "law_enforcement_report_24h"),
    )
    for field, rule in meets:
        if newly(field) or (getattr(referral, field) is not None and moved(_start_of(rule))):
            deadlines.deadline_meet(rule_code=rule, target=referral, met_at=getattr(referral, field), actor=actor)
    if referral.recovered_at and referral.case_id and (newly("recovered_at") or moved("recovered_at")):
        _frp_services_meet_if_recorded(referral, actor=actor)


def _start_of(rule: str) -> str:
    return {"written_report_36h": "hotline_reported_at", "first_response_90m": "recovered_at"}.get(rule, "")


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
        "hotline_reported_at": hotline_reported_at,
        "written_report_submitted_at": written_report_submitted_at,
        "recovered_at": recovered_at,
        "responder_arrived_at": responder_arrived_at,
        "law_enforcement_notified_at": law_enforcement_notified_at,
    }
    _validate_clocks(clocks)
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
            value = _validate_indicators(data[name]) if name == "indicators" else data[name]
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
    if level == clear and previous_level != clear:
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


def case_number_allocate(*, year: int | None = None) -> str:
    """The next case number of the year, H-YYYY-NNNNNN: one counter row per year, incremented
    under a row lock inside the caller's transaction, so numbers are unique and — since a
    rolled-back case rolls its increment back too — without gaps."""
    year = year or timezone.localdate().year
    CaseNumberSequence.objects.bulk_create([CaseNumberSequence(year=year, last=0)], ignore_conflicts=True)
    seq = CaseNumberSequence.objects.select_for_update().get(year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"H-{year}-{seq.last:06d}"


def _case_open(*, youth: Youth, lead_agency: Agency, actor: User, now: dt.datetime) -> Case:
    case = Case(youth=youth, number=case_number_allocate(), lead_agency=lead_agency)
    _save(case, actor=actor)
    # The one system event that writes a participation (SPEC §1): the new case's lead row.
    sharing.participation_lead_create(case=case, actor=actor, now=now)
    _audit(actor, Action.CREATE, "case", case, youth.pk, number=case.number, lead_agency=lead_agency.code)
    return case


def _team_add(*, case: Case, user: User, case_role: str, actor: User) -> CaseTeamMember:
    member = CaseTeamMember(case=case, user=user, case_role=case_role, added_by=actor)
    _save(member, actor=actor)
    _audit(
        actor,
        Action.ACCESS_CHANGE,
        "case_team_member",
        member,
        case.youth_id,
        case=case.pk,
        user=user.pk,
        role=case_role,
    )
    return member


@transaction.atomic
def referral_accept(*, referral: Referral, actor: User) -> Referral:
    """Accept: open the youth's case with the receiving agency as lead, or link the referral to
    the youth's open case. Accepting grants nothing (SPEC §1 "Sharing has one door"): linking to
    a case another agency leads raises a share request for the receiving agency, and the
    referring agency keeps sight of its own referral only. The referring worker joins the case
    team only when their agency leads the case. Under a row lock: of two concurrent accepts
    exactly one wins."""
    referral = _decision_lock(referral, actor)
    _transition(referral, "accept")
    now = timezone.now()
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


@transaction.atomic
def referral_decline(*, referral: Referral, actor: User, reason: str) -> Referral:
    referral = _decision_lock(referral, actor)
    _transition(referral, "decline")
    referral.decline_reason = reason
    _save(referral, actor=actor)
    _audit(actor, Action.TRANSITION, "referral", referral, referral.youth_id, to="declined")
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
    return referral


# --- cases -----------------------------------------------------------------------------------------


def case_for_write(*, case_id: int, actor: Any) -> tuple[Case, CaseAccess]:
    """The one check every write on a case's parts makes, inside its own transaction: the actor
    still sees the case — through the same selector as the read, so a participation that
    expired or was revoked since the page was loaded stops the write (404) — and what they may
    do on it. A stale `CaseAccess` handed in by a caller is never trusted."""
    case = case_get_visible(user=actor, pk=case_id)
    return case, case_access(user=actor, case=case)


CASE_EDITABLE = ("court", "csec_status")


@transaction.atomic
def case_update(*, case: Case, actor: User, data: Mapping[str, Any], if_match: str | None = None) -> Case:
    access = case_access(user=actor, case=case)
    if not access.can_edit_case:
        raise _forbidden("Only the lead agency edits the case.")
    case = _lock(Case, case.pk)
    check_if_match(case, if_match)
    changed = [n for n in CASE_EDITABLE if n in data and getattr(case, n) != data[n]]
    for name in changed:
        setattr(case, name, data[name])
    if changed:
        _save(case, actor=actor)
    if "court" in changed:
        sharing.participations_end_with_court(case=case, actor=actor, reason="court_changed")
    _audit(actor, Action.UPDATE, "case", case, case.youth_id, fields=changed)
    return case


@transaction.atomic
def case_close(*, case: Case, actor: User, reason: str) -> Case:
    access = case_access(user=actor, case=case)
    case = _lock(Case, case.pk)
    if not access.can_close_case:
        raise _forbidden("Only a supervisor of the lead agency closes the case.")
    if case.status != Case.Status.OPEN:
        raise ApplicationError("The case is already closed.", code="conflict")
    case.status = Case.Status.CLOSED
    case.close_reason = reason
    case.closed_at = timezone.now()
    sharing.participations_end_with_court(case=case, actor=actor, reason="case_closed")
    _save(case, actor=actor)
    _audit(actor, Action.TRANSITION, "case", case, case.youth_id, to="closed")
    return case


@transaction.atomic
def case_team_member_add(*, case: Case, actor: User, user: User, case_role: str) -> CaseTeamMember:
    case, access = case_for_write(case_id=case.pk, actor=actor)
    if not access.can_add_team_member(user):
        raise _forbidden("Only a supervisor of the lead agency (or of the member's own agency) assigns the team.")
    if not user.is_active or role_of(user) not in CASE_ROLES:
        raise ApplicationError(
            "Only active case workers and supervisors join a case team.", fields={"user": ["Not eligible."]}
        )
    if not agency_participates(case=case, agency_id=user.agency_id):
        raise ApplicationError(
            "That person's agency does not participate in this case.", fields={"user": ["Agency not participating."]}
        )
    _lock(Case, case.pk)
    if CaseTeamMember.objects.filter(case=case, user=user, removed_at__isnull=True).exists():
        raise ApplicationError("Already on the case team.", code="conflict")
    return _team_add(case=case, user=user, case_role=case_role, actor=actor)


@transaction.atomic
def case_team_member_remove(*, member: CaseTeamMember, actor: User) -> CaseTeamMember:
    member = CaseTeamMember.objects.select_for_update().select_related("case", "user").get(pk=member.pk)
    _, access = case_for_write(case_id=member.case_id, actor=actor)
    if not access.can_add_team_member(member.user):
        raise _forbidden("Only a supervisor of the lead agency (or of the member's own agency) changes the team.")
    if member.removed_at is not None:
        raise ApplicationError("Already removed.", code="conflict")
    member.removed_at = timezone.now()
    _save(member, actor=actor)
    _audit(
        actor,
        Action.ACCESS_CHANGE,
        "case_team_member",
        member,
        member.case.youth_id,
        case=member.case_id,
        user=member.user_id,
        removed=True,
    )
    return member


# Participations are written by cases/sharing.py only (SPEC §1 "Sharing has one door"); these
# keep the services' names for the API and the tests.


def case_agency_grant(
    *,
    case: Case,
    actor: User,
    agency: Agency,
    legal_basis: str,
    expires_at: dt.datetime | None = None,
    good_cause: str = "",
) -> CaseAgency:
    return sharing.participation_grant(
        case=case, actor=actor, agency=agency, legal_basis=legal_basis, expires_at=expires_at, good_cause=good_cause
    )


def case_agency_renew(
    *, participation: CaseAgency, actor: User, good_cause: str = "", expires_at: dt.datetime | None = None
) -> CaseAgency:
    return sharing.participation_renew(
        participation=participation, actor=actor, good_cause=good_cause, expires_at=expires_at
    )


def case_agency_revoke(*, participation: CaseAgency, actor: User) -> CaseAgency:
    return sharing.participation_revoke(participation=participation, actor=actor)


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
    new note referencing the original, with the same visibility."""
    case, access = case_for_write(case_id=case.pk, actor=actor)
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
    "return_debrief_at": "return_debrief_72h",
}


_EPISODE_TIME_WORDS = {
    "missing_since": "when the youth went missing",
    "learned_at": "when the agency learned the youth was missing",
    "reported_to_law_enforcement_at": "when the youth was reported to law enforcement",
    "reported_to_ncmec_at": "when the youth was reported to NCMEC",
    "attorney_notified_at": "when the youth's attorney was notified",
    "returned_at": "when the youth returned",
    "return_debrief_at": "when the return debrief was held",
}
#: Each report is due from `learned_at` (the 24-hour clocks), the debrief from `returned_at`.
_EPISODE_NOT_BEFORE = {
    "learned_at": ("missing_since",),
    "reported_to_law_enforcement_at": ("learned_at",),
    "reported_to_ncmec_at": ("learned_at",),
    "attorney_notified_at": ("learned_at",),
    "returned_at": ("missing_since",),
    "return_debrief_at": ("returned_at",),
}


def _validate_episode(values: Mapping[str, Any]) -> None:
    """An episode's times are facts (SPEC §2): none in the future, none before the event that
    started its clock; a debrief needs the return first."""
    errors = _fact_time_errors(values, words=_EPISODE_TIME_WORDS, not_before=_EPISODE_NOT_BEFORE)
    if values.get("return_debrief_at") and not values.get("returned_at"):
        errors["return_debrief_at"] = ["Send returned_at first (or with it): the debrief follows the return."]
    if errors:
        raise ApplicationError("Some times cannot be right; see each field.", fields=errors)


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
        start = "returned_at" if rule == "return_debrief_72h" else "learned_at"
        if value is not None and (before.get(field) is None or getattr(episode, start) != before.get(start)):
            deadlines.deadline_meet(rule_code=rule, target=episode, met_at=value, actor=actor)


@transaction.atomic
def missing_episode_create(*, case: Case, actor: User, **values: Any) -> MissingEpisode:
    case, _ = case_for_write(case_id=case.pk, actor=actor)
    _validate_episode(values)
    episode = MissingEpisode(case=case, created_by=actor, **values)
    _save(episode, actor=actor)
    _audit(actor, Action.CREATE, "missing_episode", episode, case.youth_id, case=case.pk)
    _episode_clocks(episode, before={}, actor=actor)
    return episode


@transaction.atomic
def missing_episode_update(
    *, episode: MissingEpisode, actor: User, data: Mapping[str, Any], if_match: str | None = None
) -> MissingEpisode:
    case_for_write(case_id=episode.case_id, actor=actor)
    episode = MissingEpisode.objects.select_for_update().select_related("case").get(pk=episode.pk)
    check_if_match(episode, if_match)
    before = {name: getattr(episode, name) for name in EPISODE_TIME_FIELDS}
    changed = []
    for name in (*EPISODE_TIME_FIELDS, "ncic_number"):
        if name in data and getattr(episode, name) != data[name]:
            if name in ("missing_since", "learned_at") and data[name] is None:
                raise ApplicationError("Required.", fields={name: ["This field may not be null."]})
            setattr(episode, name, data[name])
            changed.append(name)
    _validate_episode({n: getattr(episode, n) for n in EPISODE_TIME_FIELDS})
    if changed:
        _save(episode, actor=actor)
    _audit(
        actor, Action.UPDATE, "missing_episode", episode, episode.case.youth_id, case=episode.case_id, fields=changed
    )
    _episode_clocks(episode, before=before, actor=actor)
    return episode


# --- placements, services, hearings, alerts --------------------------------------------------------


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
) -> Placement:
    case, access = case_for_write(case_id=case.pk, actor=actor)
    if address and not access.can_see_protected:
        raise _forbidden("Only the lead agency's case team records a placement address.")
    if end_date and end_date < start_date:
        raise ApplicationError("Ends before it starts.", fields={"end_date": ["Cannot be before start_date."]})
    placement = Placement(
        case=case,
        placement_type=placement_type,
        csec_specialized=csec_specialized,
        address=address,
        start_date=start_date,
        end_date=end_date,
        created_by=actor,
    )
    _save(placement, actor=actor)
    _audit(actor, Action.CREATE, "placement", placement, case.youth_id, case=case.pk, placement_type=placement_type)
    return placement


@transaction.atomic
def service_referral_create(
    *,
    case: Case,
    actor: User,
    provider: str,
    referred_at: dt.datetime,
    service_type: str = "",
    evidence_based_practice: str = "",
    is_health_exam: bool = False,
    status: str = ServiceReferral.Status.REFERRED,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
) -> ServiceReferral:
    """Record a service referral (or health exam); it meets the First Responder Protocol's 72-hour
    services clock of the case's recovered referrals."""
    case, _ = case_for_write(case_id=case.pk, actor=actor)
    if referred_at > timezone.now() + FACT_TIME_LEEWAY:
        # It meets the services clock: a fact time, never in the future (SPEC §2).
        raise ApplicationError(
            "A service referral is recorded when it is made: send its time, not a future one.",
            fields={"referred_at": ["Must not be in the future."]},
        )
    service = ServiceReferral(
        case=case,
        provider=provider,
        referred_at=referred_at,
        service_type=service_type,
        evidence_based_practice=evidence_based_practice,
        is_health_exam=is_health_exam,
        status=status,
        started_at=started_at,
        ended_at=ended_at,
        created_by=actor,
    )
    _save(service, actor=actor)
    _audit(
        actor, Action.CREATE, "service_referral", service, case.youth_id, case=case.pk, is_health_exam=is_health_exam
    )
    for referral in Referral.objects.filter(case_id=case.pk, recovered_at__isnull=False, recovered_at__lte=referred_at):
        deadlines.deadline_meet(rule_code="frp_services_72h", target=referral, met_at=referred_at, actor=actor)
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
