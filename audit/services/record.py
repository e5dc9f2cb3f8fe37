"""Writing audit events (SPEC §5): one or a request's many, each with its MAC (HMAC-SHA-256
with HARBOR_AUDIT_KEY, over the whole event, its id included), inside the transaction of the
change it records."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.canonical import json_dumps_canonical
from core.middleware import client_ip_var, request_id_var

from ..models import AuditEvent
from .detail import clean_detail


def audit_key() -> bytes:
    key = getattr(settings, "HARBOR_AUDIT_KEY", "")
    if not key:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("HARBOR_AUDIT_KEY is not set.")
    return key.encode()


@dataclass
class AuditEntry:
    action: str
    object_type: str
    object_id: Any = ""
    youth_id: int | None = None
    outcome: str = AuditEvent.Outcome.SUCCESS
    detail: dict[str, Any] = field(default_factory=dict)


def _build(actor: Any, entry: AuditEntry, now: Any) -> AuditEvent:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent(
        occurred_at=now,
        actor_id=actor.pk if authenticated else None,
        actor_agency=(actor.agency.code if authenticated and actor.agency_id else ""),
        action=entry.action,
        object_type=entry.object_type,
        object_id="" if entry.object_id is None else str(entry.object_id),
        youth_id=entry.youth_id,
        outcome=entry.outcome,
        request_id=request_id_var.get() or "",
        client_ip=client_ip_var.get() or "",
        detail=clean_detail(entry.detail, object_type=entry.object_type),
    )


def _ids(values: Iterable[Any]) -> list[int] | None:
    return None if values is None else [int(v) for v in values]


def _signed_content(event: AuditEvent) -> dict[str, Any]:
    """Every column the application writes, the id included (the chain columns come later)."""
    content = {
        "id": event.pk,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_agency": event.actor_agency,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "youth_id": event.youth_id,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
        "detail": event.detail,
    }
    # Present only when set, so events written before these columns keep their chain hashes.
    if event.object_ids is not None:
        content["object_ids"] = _ids(event.object_ids)
    if event.youth_ids is not None:
        content["youth_ids"] = _ids(event.youth_ids)
    return content


def event_mac(event: AuditEvent) -> str:
    payload = "audit-event:" + json_dumps_canonical(_signed_content(event))
    return hmac.new(audit_key(), payload.encode(), hashlib.sha256).hexdigest()


def mac_ok(event: AuditEvent) -> bool:
    return bool(event.mac) and hmac.compare_digest(event.mac, event_mac(event))


def _write(events: list[AuditEvent]) -> None:
    """Insert the events, each with its MAC. The MAC covers the id, so the id is known first:
    on PostgreSQL it is drawn from the table's sequence (one statement for all the events), so
    a row never exists without its MAC and the append-only trigger needs no exception for it.
    SQLite (no trigger, one writer) inserts, then signs the ids it got."""
    if not events:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('audit_auditevent', 'id')) FROM generate_series(1, %s)",
                [len(events)],
            )
            for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
                event.pk = pk
                event.mac = event_mac(event)
        AuditEvent.objects.bulk_create(events)
        return
    AuditEvent.objects.bulk_create(events)
    for event in events:
        event.mac = event_mac(event)
    AuditEvent.objects.bulk_update(events, ["mac"])


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any = "",
    youth_id: int | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records."""
    entry = AuditEntry(action, object_type, object_id, youth_id, outcome, detail or {})
    event = _build(actor, entry, timezone.now())
    _write([event])
    return event


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _one_list_event(entries: list[AuditEntry]) -> AuditEntry:
    """A list page's rows as one `list` event (SPEC §5): the ids shown and the youth they
    concern as arrays. Detail the rows agree on is kept once; detail that differs by row is
    kept as one list aligned with `object_ids`."""
    first = entries[0]
    rows = [e for e in entries if _as_id(e.object_id) is not None]
    object_ids = [_as_id(e.object_id) for e in rows]
    youth_ids = sorted({e.youth_id for e in entries if e.youth_id is not None})
    detail: dict[str, Any] = {}
    keys = {k for e in entries for k in e.detail}
    for key in sorted(keys):
        values = [e.detail.get(key) for e in entries if key in e.detail]
        if all(v == values[0] for v in values):
            detail[key] = values[0]
        else:
            detail[key] = [e.detail.get(key) for e in rows]
    detail["count"] = len(object_ids)
    entry = AuditEntry(
        first.action,
        first.object_type,
        "",
        # The one youth of a page about one child (a case's notes…) stays on the indexed column.
        youth_ids[0] if len(youth_ids) == 1 else None,
        first.outcome,
        detail,
    )
    entry.object_ids = object_ids  # type: ignore[attr-defined]
    entry.youth_ids = youth_ids  # type: ignore[attr-defined]
    return entry


def audit_record_many(*, actor: Any, entries: Iterable[AuditEntry]) -> int:
    """Append the events of one request. A list page's rows (`list` entries, one per object
    shown) become ONE event carrying their ids and youth ids; other entries (the view of the
    meeting whose agenda is listed…) stay events of their own. Returns how many were written."""
    now = timezone.now()
    singles: list[AuditEntry] = []
    lists: dict[tuple[str, str, str], list[AuditEntry]] = {}
    for entry in entries:
        if entry.action == AuditEvent.Action.LIST:
            lists.setdefault((entry.action, entry.object_type, entry.outcome), []).append(entry)
        else:
            singles.append(entry)
    events = [_build(actor, e, now) for e in singles]
    for group in lists.values():
        merged = _one_list_event(group)
        event = _build(actor, merged, now)
        event.object_ids = merged.object_ids  # type: ignore[attr-defined]
        event.youth_ids = merged.youth_ids  # type: ignore[attr-defined]
        events.append(event)
    _write(events)
    return len(events)
