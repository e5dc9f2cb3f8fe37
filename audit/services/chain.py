"""The hash chain (SPEC §5): the sealer links events (seq, prev_hash, hash), so a deleted or
reordered event breaks the links."""

from __future__ import annotations

import hashlib
import logging

from django.db import connection, transaction

from core.canonical import json_dumps_canonical

from ..models import AuditEvent
from .record import _signed_content, mac_ok

logger = logging.getLogger("audit")

GENESIS = "0" * 64
#: Arbitrary constant key for pg_advisory_xact_lock: only one sealer links the chain at a time.
SEAL_LOCK_KEY = 0x5AFE4A2B


def canonical(event: AuditEvent) -> str:
    """The bytes the chain hashes: the signed content and the sequence number."""
    return json_dumps_canonical({**_signed_content(event), "seq": event.seq})


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def audit_seal(*, batch_size: int = 5000) -> int:
    """Link unsealed events into the chain, in id order, under one lock. Returns how many.

    Only one sealer runs at a time (an advisory transaction lock on PostgreSQL; SQLite has a
    single writer anyway), so the chain can never fork. An event committed late by a slow
    transaction simply gets the next sequence number in the next pass. An event whose MAC
    fails is sealed too (the chain records what the table holds) and logged by id at once;
    audit_verify names it.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
            last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").only("seq", "hash").first()
            seq, prev = 0, GENESIS
            if last is not None:
                assert last.seq is not None  # filtered on seq__isnull=False
                seq, prev = last.seq, last.hash
            batch = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
            if not batch:
                return sealed
            for event in batch:
                if not mac_ok(event):
                    logger.error("audit event %s fails its MAC (sealed anyway; audit_verify names it)", event.pk)
                seq += 1
                event.seq = seq
                event.prev_hash = prev
                event.hash = chain_hash(prev, event)
                prev = event.hash
            AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "hash"], batch_size=1000)
            sealed += len(batch)
        if len(batch) < batch_size:
            return sealed
