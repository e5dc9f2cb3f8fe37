"""Signed checkpoints of the chain's head (SPEC §5), kept where a database attacker cannot
reach them (the log stream, a file, a table of their own): a chain recomputed from some event
onward, or a cut tail, no longer matches the last checkpoint."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.canonical import json_dumps_canonical

from ..models import AuditCheckpoint, AuditEvent
from .chain import GENESIS, SEAL_LOCK_KEY, audit_seal
from .record import audit_key

logger = logging.getLogger("audit")
checkpoint_logger = logging.getLogger("audit.checkpoint")


@dataclass(frozen=True)
class Checkpoint:
    created_at: str
    seq: int
    hash: str
    count: int
    mac: str = ""

    def payload(self) -> str:
        return "audit-checkpoint:" + json_dumps_canonical(
            {"created_at": self.created_at, "seq": self.seq, "hash": self.hash, "count": self.count}
        )

    def signed(self) -> Checkpoint:
        mac = hmac.new(audit_key(), self.payload().encode(), hashlib.sha256).hexdigest()
        return Checkpoint(self.created_at, self.seq, self.hash, self.count, mac)

    def mac_ok(self) -> bool:
        return bool(self.mac) and hmac.compare_digest(self.mac, self.signed().mac)

    def line(self) -> str:
        return json_dumps_canonical(asdict(self))


def _write_checkpoint_file(checkpoint: Checkpoint) -> None:
    path = Path(settings.HARBOR_AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(checkpoint.line() + "\n")


def audit_checkpoint(*, now: Any = None) -> Checkpoint:
    """Seal what is pending, then sign the chain's head (sequence number, hash, count of sealed
    events) and write it where a database attacker cannot reach it: the application log (one
    line, ids and hashes only), HARBOR_AUDIT_CHECKPOINT_FILE (one JSON line) and the
    append-only checkpoint table. `manage.py audit_checkpoint` and the beat task call this."""
    audit_seal()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                # The head cannot move while it is read: the sealer takes the same lock.
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        head = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
        count = AuditEvent.objects.filter(seq__isnull=False).count()
        seq, digest = head if head else (0, GENESIS)
        assert seq is not None  # filtered on seq__isnull=False
        when = (now or timezone.now()).astimezone(UTC).isoformat()
        checkpoint = Checkpoint(when, seq, digest, count).signed()
        AuditCheckpoint.objects.create(
            created_at=dt.datetime.fromisoformat(when), seq=seq, hash=digest, count=count, mac=checkpoint.mac
        )
    checkpoint_logger.info("audit checkpoint %s", checkpoint.line())
    try:
        _write_checkpoint_file(checkpoint)
    except OSError:
        # The log line and the table still hold it; the file's absence is itself worth a page.
        logger.exception("audit checkpoint file could not be written")
    return checkpoint


def checkpoints_from_table() -> list[Checkpoint]:
    return [
        Checkpoint(c.created_at.astimezone(UTC).isoformat(), c.seq, c.hash, c.count, c.mac)
        for c in AuditCheckpoint.objects.order_by("id")
    ]


def checkpoints_from_file(path: str | Path) -> tuple[list[Checkpoint], int]:
    """The checkpoints of a file (one JSON line each, or log lines that end in one); and how
    many lines could not be read as one."""
    found: list[Checkpoint] = []
    unreadable = 0
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        start = line.find("{")
        if start < 0:
            unreadable += 1
            continue
        try:
            data = json.loads(line[start:])
            found.append(
                Checkpoint(
                    str(data["created_at"]), int(data["seq"]), str(data["hash"]), int(data["count"]), str(data["mac"])
                )
            )
        except (ValueError, TypeError, KeyError):
            unreadable += 1
    return found, unreadable


def default_checkpoints(extra_files: Iterable[str | Path] = ()) -> tuple[list[Checkpoint], int]:
    """The table's checkpoints, the configured file's (when it exists) and those of `extra_files`."""
    found = checkpoints_from_table()
    unreadable = 0
    files = [Path(p) for p in extra_files]
    configured = Path(settings.HARBOR_AUDIT_CHECKPOINT_FILE)
    if configured.exists() and configured not in files:
        files.append(configured)
    for path in files:
        more, bad = checkpoints_from_file(path)
        found += more
        unreadable += bad
    return found, unreadable
