"""Writes of youth records (SPEC §2): create, edit (identity and external ids, kept in step
with their blind indexes and duplicate-search keys), merge a duplicate record into another and
undo that merge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.etags import check_if_match

from .. import matching
from ..crypto import blind_index
from ..models import Case, CaseAgency, Referral, Youth, YouthExternalId, YouthMerge, YouthSearchKey
from ..permissions import RecordCharge, can_edit_youth_identity, can_merge_youth, may_merge_record
from ..selectors.visibility import (
    case_access,
    participation_active_q,
    youth_contact_details_visible,
    youth_ids_visible_among,
)
from ._common import Action, _audit, _forbidden, _lock, _require_case_role, _save

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
    for sent in aliases or []:
        alias = " ".join(str(sent).split())
        if alias and alias not in out:
            out.append(alias)
    return out


def _clean_contact_details(items: Iterable[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """Each contact as {"kind", "value", "label"}, trimmed, without empty or repeated entries."""
    out: list[dict[str, str]] = []
    for item in items or []:
        entry = {k: " ".join(str(item.get(k, "") or "").split()) for k in ("kind", "value", "label")}
        if entry["value"] and entry not in out:
            out.append(entry)
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
                existing._history_user = actor  # noqa: SLF001 - simple-history's (documented) history-author attribute
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
    contact_details: Iterable[Mapping[str, Any]] = (),
) -> Youth:
    _require_case_role(actor)
    assert actor.agency_id is not None  # _require_case_role refused a user without an agency
    youth = Youth(
        contact_details=_clean_contact_details(contact_details),
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
    if "contact_details" in data and not youth_contact_details_visible(user=actor, youth=youth):
        # Written only by who may read them (SPEC §1: a write needs the read's visibility).
        raise _forbidden("A youth's contact details are recorded by the lead agency's case team.")
    check_if_match(youth, if_match)
    if youth.merged_into_id:
        raise ApplicationError("This record was merged into another; edit that one.", code="conflict")
    changed = []
    if "contact_details" in data:
        contacts = _clean_contact_details(data["contact_details"])
        if youth.contact_details != contacts:
            youth.contact_details = contacts
            changed.append("contact_details")
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
    locked = Youth.objects.select_for_update().filter(pk=source.pk).first()
    if locked is None:
        raise Http404
    source = locked
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
