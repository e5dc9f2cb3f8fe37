"""Access oversight (SPEC §9): alerts to auditors about reads that look wrong, computed from the
audit log by a beat task (never in a request), and the lead agency supervisors' view of who read
their case's records.

Alerts carry ids and counts only (the reader's user id, how many, when) — in the inbox and the
email alike. Thresholds are `OversightSettings`, which a system admin edits in the admin."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.models import CaseAgency, CaseTeamMember
from cases.selectors.visibility import case_get_visible
from core.errors import ApplicationError
from core.permissions import Role, is_supervisor
from mdt.models import TeamMembership
from notifications.services.notices import users_notify

from .models import AccessAlert, OversightSettings
from .periods import LOCAL

#: Reads of a record: what "who read this child's record" counts.
READ_ACTIONS = (AuditEvent.Action.VIEW, AuditEvent.Action.LIST, AuditEvent.Action.EXPORT)
NOTICE_KIND = "access_alert"


def _caseload_youth(reader_id: int) -> set[int]:
    return set(
        CaseTeamMember.objects.filter(user_id=reader_id, removed_at__isnull=True).values_list(
            "case__youth_id", flat=True
        )
    )


def _recent(kind: str, reader_id: int, since: dt.datetime) -> bool:
    return AccessAlert.objects.filter(kind=kind, reader_id=reader_id, window_end__gt=since).exists()


def _night_start(now: dt.datetime, cfg: OversightSettings) -> dt.datetime | None:
    """The start of the unusual hours `now` falls in, or None when `now` is a usual hour."""
    local = timezone.localtime(now, LOCAL)
    start, end = cfg.unusual_from_hour, cfg.unusual_to_hour
    hour = local.hour
    inside = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    day = local.date() if hour >= start else local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(start), tzinfo=LOCAL)


def access_alerts_scan(*, now: dt.datetime | None = None, cfg: OversightSettings | None = None) -> list[AccessAlert]:
    """Look at the audit events of the last window (and of tonight's unusual hours) and raise
    each alert once per reader and window; tell the auditors. `cfg`: thresholds other than the
    saved ones (the benchmark's one-day window)."""
    now = now or timezone.now()
    cfg = cfg or OversightSettings.current()
    since = now - dt.timedelta(minutes=cfg.window_minutes)
    found: list[tuple[str, int, dt.datetime, int]] = []
    events = AuditEvent.objects.filter(occurred_at__gte=since, occurred_at__lte=now, actor_id__isnull=False)

    # Records of many youth outside the reader's caseload.
    opened: dict[int, set[int]] = defaultdict(set)
    rows = events.filter(action__in=[AuditEvent.Action.VIEW, AuditEvent.Action.EXPORT], youth_id__isnull=False)
    for reader_id, youth_id in rows.values_list("actor_id", "youth_id").distinct():
        opened[int(reader_id or 0)].add(int(youth_id or 0))
    for reader, youth in opened.items():
        if len(youth) > cfg.bulk_reads:
            outside = len(youth - _caseload_youth(reader))
            if outside > cfg.bulk_reads and not _recent(AccessAlert.Kind.BULK_READS, reader, since):
                found.append((AccessAlert.Kind.BULK_READS, reader, since, outside))

    # Bursts of duplicate searches.
    searches = events.filter(action=AuditEvent.Action.SEARCH).values("actor_id").annotate(n=Count("id"))
    for row in searches.filter(n__gt=cfg.duplicate_searches):
        reader = int(row["actor_id"] or 0)
        if not _recent(AccessAlert.Kind.DUPLICATE_SEARCHES, reader, since):
            found.append((AccessAlert.Kind.DUPLICATE_SEARCHES, reader, since, row["n"]))

    # Reads at unusual hours: counted over the night so far, one alert per reader per night.
    night = _night_start(now, cfg)
    if night is not None:
        reads = (
            AuditEvent.objects.filter(
                occurred_at__gte=night, occurred_at__lte=now, actor_id__isnull=False, action=AuditEvent.Action.VIEW
            )
            .values("actor_id")
            .annotate(n=Count("id"))
            .filter(n__gt=cfg.unusual_hour_reads)
        )
        for row in reads:
            reader = int(row["actor_id"] or 0)
            if not _recent(AccessAlert.Kind.UNUSUAL_HOURS, reader, night):
                found.append((AccessAlert.Kind.UNUSUAL_HOURS, reader, night, row["n"]))

    return [_raise(kind, reader, start, now, count) for kind, reader, start, count in found]


@transaction.atomic
def _raise(kind: str, reader_id: int, start: dt.datetime, end: dt.datetime, count: int) -> AccessAlert:
    alert = AccessAlert.objects.create(kind=kind, reader_id=reader_id, window_start=start, window_end=end, count=count)
    reader = User.objects.filter(pk=reader_id).only("agency_id").first()
    auditors = User.objects.filter(role=Role.AUDITOR, is_active=True)
    own = auditors.filter(agency_id=reader.agency_id) if reader and reader.agency_id else auditors.none()
    users_notify(
        users=list(own) or list(auditors),
        kind=NOTICE_KIND,
        subject_words="Access alert",
        reference=f"Access alert {alert.pk}: {kind} by user {reader_id} ({count})",
        link_path=f"/api/v1/audit-events/?actor={reader_id}",
        actor=None,
        object_type="access_alert",
        object_id=alert.pk,
    )
    return alert


# --- who read this case's records ---------------------------------------------------------------


def case_readers(*, actor: Any, case_id: Any) -> list[dict[str, Any]]:
    """Staff who read the records of the case's youth, and when (first, last, how many reads):
    names, agencies and roles, no content. The lead agency's supervisors only: a case the
    caller cannot see is 404; one they see but do not lead, 403. The look is audited."""
    case = case_get_visible(user=actor, pk=case_id)
    if not (is_supervisor(actor) and case.lead_agency_id == actor.agency_id):
        raise ApplicationError("Only the lead agency's supervisors see who read a case.", code="forbidden")
    youth = case.youth_id
    # Only the agencies that could have read THIS case: those that take or took part in it, and
    # those whose people sit on its court's MDT (the agenda view). A read of the youth's other
    # records by anyone else (a closed case another agency led, a record it holds) stays out:
    # listing them would tell the lead that such records exist (SPEC §1).
    agencies = set(CaseAgency.objects.filter(case=case).values_list("agency__code", flat=True))
    if case.court:
        agencies |= set(
            TeamMembership.objects.filter(team__court=case.court).values_list("user__agency__code", flat=True)
        )
    reads = (
        AuditEvent.objects.filter(Q(youth_id=youth) | Q(youth_ids__has=youth))
        .filter(actor_agency__in=agencies)
        .filter(action__in=READ_ACTIONS, actor_id__isnull=False, outcome=AuditEvent.Outcome.SUCCESS)
        .values("actor_id")
        .annotate(reads=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
    )
    by_id = {int(row["actor_id"] or 0): row for row in reads}
    people = User.objects.filter(pk__in=list(by_id)).select_related("agency")
    rows = [
        {
            "user": u.pk,
            "name": u.get_full_name() or u.username,
            "agency": u.agency.code if u.agency else None,
            "role": u.role,
            "reads": by_id[u.pk]["reads"],
            "first_read_at": by_id[u.pk]["first"].isoformat(),
            "last_read_at": by_id[u.pk]["last"].isoformat(),
        }
        for u in people
    ]
    rows.sort(key=lambda r: r["last_read_at"], reverse=True)
    audit_record(
        actor=actor, action=AuditEvent.Action.VIEW, object_type="case_readers", object_id=case.pk, youth_id=youth
    )
    return rows
