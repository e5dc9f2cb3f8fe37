"""A case's timeline (what happened, oldest first) and its history (every recorded change),
each filtered like every other read: notes by `visibility.note_list_visible_to`, mental-health
services by `parts.service_visibility_q`, protected fields by the caller's `case_access`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from ..models import (
    Case,
    CaseAgency,
    CaseTeamMember,
    CourtHearing,
    MissingEpisode,
    Placement,
    Referral,
    SafetyAlert,
    Screening,
    ServiceReferral,
)
from .parts import (
    case_referral_ids,
    court_hearing_list,
    missing_episode_list,
    placement_list,
    safety_alert_list,
    service_referral_list,
    service_visibility_q,
)
from .visibility import case_access, note_list_visible_to


def _day_start(value: dt.date) -> dt.datetime:
    return dt.datetime.combine(value, dt.time.min, tzinfo=timezone.get_default_timezone())


def case_timeline(*, user: Any, case: Case) -> list[dict[str, Any]]:
    """What happened on the case, oldest first: referrals, screening, opening and closing,
    team and agency changes, notes the user may read, missing episodes, placements, services,
    hearings and alerts. Codes, ids and times only — the details are on each part's endpoint.
    One query per kind of part, whatever the number of rows."""
    items: list[dict[str, Any]] = []

    def add(
        at: Any, kind: str, object_type: str, object_id: int, actor: int | None = None, detail: dict | None = None
    ) -> None:
        if at is not None:
            items.append(
                {
                    "at": at,
                    "kind": kind,
                    "object_type": object_type,
                    "object_id": object_id,
                    "actor": actor,
                    "detail": detail or {},
                }
            )

    add(case.created_at, "case_opened", "case", case.pk, None, {"lead_agency": case.lead_agency.code})
    if case.closed_at:
        add(case.closed_at, "case_closed", "case", case.pk)
    for r in Referral.objects.filter(case_id=case.pk).select_related("screening", "referring_agency"):
        add(
            r.received_at,
            "referral_received",
            "referral",
            r.pk,
            r.created_by_id,
            {"source": r.source, "referring_agency": r.referring_agency.code},
        )
        screening = getattr(r, "screening", None)
        if screening is not None:
            add(
                screening.screened_at,
                "referral_screened",
                "referral",
                r.pk,
                screening.screened_by_id,
                {"level": screening.level},
            )
    for m in CaseTeamMember.objects.filter(case_id=case.pk):
        add(
            m.added_at,
            "team_member_added",
            "case_team_member",
            m.pk,
            m.added_by_id,
            {"user": m.user_id, "role": m.case_role},
        )
        add(m.removed_at, "team_member_removed", "case_team_member", m.pk, None, {"user": m.user_id})
    for p in CaseAgency.objects.filter(case_id=case.pk).select_related("agency"):
        add(
            p.granted_at,
            "agency_granted",
            "case_agency",
            p.pk,
            p.granted_by_id,
            {"agency": p.agency.code, "legal_basis": p.legal_basis},
        )
        add(p.revoked_at, "agency_revoked", "case_agency", p.pk, None, {"agency": p.agency.code})
    for n in note_list_visible_to(user=user, case=case).only(
        "id", "created_at", "author_id", "visibility", "corrects_id"
    ):
        add(
            n.created_at,
            "note_added",
            "note",
            n.pk,
            n.author_id,
            {"visibility": n.visibility, "corrects": n.corrects_id},
        )
    for e in missing_episode_list(case=case):
        add(e.missing_since, "missing_episode_started", "missing_episode", e.pk, e.created_by_id)
        add(e.returned_at, "missing_episode_returned", "missing_episode", e.pk)
    for pl in placement_list(case=case).only("id", "start_date", "end_date", "placement_type", "created_by_id"):
        add(
            _day_start(pl.start_date),
            "placement_started",
            "placement",
            pl.pk,
            pl.created_by_id,
            {"placement_type": pl.placement_type},
        )
        if pl.end_date:
            add(_day_start(pl.end_date), "placement_ended", "placement", pl.pk)
    # Mental-health services only for the readers of clinical notes (service_referral_list).
    for s in service_referral_list(user=user, case=case):
        add(
            s.referred_at,
            "service_referred",
            "service_referral",
            s.pk,
            s.created_by_id,
            {"kind": s.kind, "service_type": s.service_type, "is_health_exam": s.is_health_exam},
        )
        add(s.accepted_at, "service_accepted", "service_referral", s.pk)
        add(s.started_at, "service_started", "service_referral", s.pk)
        if s.status in ServiceReferral.ENDED:
            add(s.ended_at, "service_ended", "service_referral", s.pk, None, {"status": s.status})
    for h in court_hearing_list(case=case).only("id", "starts_at", "court", "hearing_type", "status", "created_by_id"):
        add(
            h.starts_at,
            "court_hearing",
            "court_hearing",
            h.pk,
            h.created_by_id,
            {"court": h.court, "hearing_type": h.hearing_type, "status": h.status},
        )
    for a in safety_alert_list(case=case).only(
        "id", "created_at", "kind", "created_by_id", "resolved_at", "resolved_by_id"
    ):
        add(a.created_at, "safety_alert_added", "safety_alert", a.pk, a.created_by_id, {"kind": a.kind})
        add(a.resolved_at, "safety_alert_resolved", "safety_alert", a.pk, a.resolved_by_id, {"kind": a.kind})
    items.sort(key=lambda i: (i["at"], i["object_type"], i["object_id"]))
    return items


#: Fields never shown in a history entry (encrypted identifying details shown only to the
#: lead agency's case team are handled separately).
_HISTORY_SKIP = {"updated_at", "id"}
_PROTECTED_FIELDS = {"placement": {"address"}, "safety_alert": {"protected_detail"}}


def _history_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def case_history(*, user: Any, case: Case) -> list[dict[str, Any]]:
    """Every recorded change to the case and its parts (django-simple-history), oldest first:
    created / changed / deleted, by whom, and the fields set. Placement addresses and protected
    alert details appear only for the lead agency's case team; notes (append-only, not in
    simple-history) appear as their creation, filtered exactly as the notes list is."""
    access = case_access(user=user, case=case)
    referral_ids = case_referral_ids(case=case)
    sources: list[tuple[str, Any, Q]] = [
        ("case", Case.history, Q(id=case.pk)),
        ("referral", Referral.history, Q(id__in=referral_ids)),
        ("screening", Screening.history, Q(referral_id__in=referral_ids)),
        ("case_team_member", CaseTeamMember.history, Q(case_id=case.pk)),
        ("case_agency", CaseAgency.history, Q(case_id=case.pk)),
        ("missing_episode", MissingEpisode.history, Q(case_id=case.pk)),
        ("placement", Placement.history, Q(case_id=case.pk)),
        # Mental-health services (every version of them) only for the readers of clinical notes.
        (
            "service_referral",
            ServiceReferral.history,
            Q(
                case_id=case.pk,
                id__in=ServiceReferral.objects.filter(service_visibility_q(user=user), case_id=case.pk).values("id"),
            ),
        ),
        ("court_hearing", CourtHearing.history, Q(case_id=case.pk)),
        ("safety_alert", SafetyAlert.history, Q(case_id=case.pk)),
    ]
    entries: list[dict[str, Any]] = []
    for object_type, manager, q in sources:
        model = manager.model
        names = [f.attname for f in model.instance_type._meta.concrete_fields if f.attname not in _HISTORY_SKIP]
        if not access.can_see_protected:
            names = [n for n in names if n not in _PROTECTED_FIELDS.get(object_type, set())]
        previous: dict[int, dict[str, Any]] = {}
        rows = manager.filter(q).order_by("history_date", "history_id")
        for row in rows:
            values = {n: _history_value(getattr(row, n)) for n in names}
            before = previous.get(row.id)
            if row.history_type == "+" or before is None:
                fields = values
            else:
                fields = {n: v for n, v in values.items() if before.get(n) != v}
            previous[row.id] = values
            if row.history_type == "~" and not fields:
                continue
            entries.append(
                {
                    "at": row.history_date,
                    "actor": row.history_user_id,
                    "object_type": object_type,
                    "object_id": row.id,
                    "change": {"+": "created", "~": "changed", "-": "deleted"}[row.history_type],
                    "fields": fields,
                }
            )
    for n in note_list_visible_to(user=user, case=case).only(
        "id", "created_at", "author_id", "visibility", "corrects_id", "author_agency_id"
    ):
        entries.append(
            {
                "at": n.created_at,
                "actor": n.author_id,
                "object_type": "note",
                "object_id": n.pk,
                "change": "created",
                "fields": {
                    "visibility": n.visibility,
                    "corrects_id": n.corrects_id,
                    "author_agency_id": n.author_agency_id,
                },
            }
        )
    entries.sort(key=lambda e: (e["at"], e["object_type"], e["object_id"]))
    return entries
