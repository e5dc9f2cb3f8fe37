"""Writing and sealing the audit log (SPEC §5)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from config import db
from config.api import json_dumps_canonical
from config.middleware import client_ip_var, request_id_var

from .models import AuditEvent

GENESIS = "0" * 64
#: Arbitrary constant key for pg_advisory_xact_lock: only one sealer links the chain at a time.
SEAL_LOCK_KEY = 0x5AFE4A2B


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
        detail=entry.detail,
    )


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
    event.save(force_insert=True)
    return event


#: The columns an event is written with (the chain columns are filled by audit_seal).
_EVENT_COLUMNS = [
    ("occurred_at", "timestamptz"),
    ("actor_id", "bigint"),
    ("actor_agency", "varchar"),
    ("action", "varchar"),
    ("object_type", "varchar"),
    ("object_id", "varchar"),
    ("youth_id", "bigint"),
    ("outcome", "varchar"),
    ("request_id", "varchar"),
    ("client_ip", "varchar"),
    ("detail", "jsonb"),
    ("prev_hash", "varchar"),
    ("hash", "varchar"),
]


def audit_record_many(*, actor: Any, entries: Iterable[AuditEntry]) -> int:
    """Append several events in one INSERT (list pages: one event per object shown). On
    PostgreSQL as arrays (config.db): every list page writes one event per row shown, and
    bulk_create's compiling of 14 placeholders per event was most of the audit's share."""
    now = timezone.now()
    events = [_build(actor, e, now) for e in entries]
    if not events:
        return 0
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events)
        return len(events)
    rows = [{name: getattr(e, name) for name, _ in _EVENT_COLUMNS} for e in events]
    for row in rows:
        row["detail"] = Jsonb(row["detail"])
    db.insert_rows(AuditEvent._meta.db_table, _EVENT_COLUMNS, rows)
    return len(events)


def canonical(event: AuditEvent) -> str:
    """The bytes the chain hashes: every recorded column except the chain columns."""
    return json_dumps_canonical(
        {
            "id": event.pk,
            "seq": event.seq,
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
    )


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def audit_seal(*, batch_size: int = 5000) -> int:
    """Link unsealed events into the chain, in id order, under one lock. Returns how many.

    Only one sealer runs at a time (an advisory transaction lock on PostgreSQL; SQLite has a
    single writer anyway), so the chain can never fork. An event committed late by a slow
    transaction simply gets the next sequence number in the next pass.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
            last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").only("seq", "hash").first()
            seq = last.seq if last else 0
            prev = last.hash if last else GENESIS
            batch = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
            if not batch:
                return sealed
            for event in batch:
                seq += 1
                event.seq = seq
                event.prev_hash = prev
                event.hash = chain_hash(prev, event)
                prev = event.hash
            AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "hash"], batch_size=1000)
            sealed += len(batch)
        if len(batch) < batch_size:
            return sealed


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    unsealed: int
    broken_event_id: int | None = None
    reason: str = ""


def audit_verify(*, chunk: int = 10000) -> VerifyResult:
    """Recompute the chain from the start; name the first event whose hash does not hold."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:chunk])
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return VerifyResult(False, checked, 0, event.pk, f"sequence gap before seq {event.seq}")
            if event.prev_hash != prev or chain_hash(prev, event) != event.hash:
                return VerifyResult(False, checked, 0, event.pk, "hash mismatch")
            prev = event.hash
            expected_seq += 1
            checked += 1
            last_seq = event.seq
    unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
    return VerifyResult(True, checked, unsealed)
