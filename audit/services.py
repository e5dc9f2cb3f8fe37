"""Writing, sealing, checkpointing and verifying the audit log (SPEC §5).

Three layers of evidence, each catching what the one before cannot:
- every event carries a MAC (HMAC-SHA-256 with HARBOR_AUDIT_KEY, a key the database never
  holds) over the whole event, its id included, computed here as the event is written: a row
  inserted, copied or edited with database access alone fails it;
- the sealer links events into a hash chain (seq, prev_hash, hash): a deleted or reordered
  event breaks the links;
- signed checkpoints of the chain's head go outside the table (the log stream, a file, a
  table of their own): a chain recomputed from some event onward, or a cut tail, no longer
  matches the last checkpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.canonical import json_dumps_canonical
from core.middleware import client_ip_var, request_id_var

from .models import AuditCheckpoint, AuditEvent, AuditVerifyJob

logger = logging.getLogger("audit")
checkpoint_logger = logging.getLogger("audit.checkpoint")

GENESIS = "0" * 64
#: Arbitrary constant key for pg_advisory_xact_lock: only one sealer links the chain at a time.
SEAL_LOCK_KEY = 0x5AFE4A2B


def audit_key() -> bytes:
    key = getattr(settings, "HARBOR_AUDIT_KEY", "")
    if not key:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("HARBOR_AUDIT_KEY is not set.")
    return key.encode()


# --- what an event's detail may carry (SPEC §5: ids and field names, never content values) ------

_AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TOKEN_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
#: A duplicate search's keyed hash (cases.matching.query_fingerprint): equal searches compare
#: equal, and without the key nothing can be recovered or tried against it.
_QUERY_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
#: Protocol words that are no case content and that an auditor needs (how an access happened).
_VOCABULARY: dict[str, frozenset[str]] = {
    "method": frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}),
    "format": frozenset({"pdf", "html", "json", "csv", "ics"}),
    "via": frozenset(
        {
            "admin",
            "invitation",
            "feed",
            "api",
            "web",
            "matches",
            "youth_create",
            "youth_update",
            "referral_create",
            "referral_detail",
            "referral_accept",
        }
    ),
    "step": frozenset({"begin", "confirm", "reset", "password_reset_requested", "password_link_sent", "resolve"}),
    # Why a session ended (accounts.middleware) or which factor a login failed on (for auditors).
    "reason": frozenset({"idle", "absolute", "unstamped", "otp"}),
}
_warned: set[tuple[str, str]] = set()


def _is_int(value: Any) -> bool:
    return isinstance(value, int)  # bools are ints: flags are allowed


def _agency_key(key: str) -> bool:
    return key in {"agency", "agencies"} or key.endswith(("_agency", "_agencies"))


def _iso_time(value: str) -> bool:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _allowed(key: str, value: Any) -> bool:
    if value is None or _is_int(value):
        return True
    if isinstance(value, list):
        if all(_is_int(v) for v in value):
            return True
        if key == "fields":
            return all(isinstance(v, str) and _FIELD_NAME.match(v) for v in value)
        if _agency_key(key):
            return all(isinstance(v, str) and _AGENCY_CODE.match(v) for v in value)
        return False
    if isinstance(value, str):
        if _agency_key(key):
            return bool(_AGENCY_CODE.match(value))
        if key == "expires_at" or key.endswith("_expires_at"):
            return _iso_time(value)
        if key == "token":
            return bool(_TOKEN_FINGERPRINT.match(value))
        if key == "query":
            return bool(_QUERY_FINGERPRINT.match(value))
        return value in _VOCABULARY.get(key, ())
    return False


def clean_detail(detail: dict[str, Any] | None, *, object_type: str = "") -> dict[str, Any]:
    """The detail an event may keep: ints, bools, None, lists of ints, field names under
    `fields`, agency codes under keys naming an agency, ISO times under `expires_at`, and a few
    protocol words (method, format, via, step). Any other value — a status, a level, a court,
    free text — is dropped and its key listed under `fields` instead: the log says *what*
    was involved, never *what it said*. Nested objects are cleaned the same way."""
    if not detail:
        return {}
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY.match(key):
            continue  # a key that could itself be content is not kept, not even as a name
        if isinstance(value, dict):
            kept[key] = clean_detail(value, object_type=object_type)
        elif _allowed(key, value):
            kept[key] = value
        else:
            dropped.append(key)
            if (object_type, key) not in _warned:
                _warned.add((object_type, key))
                # The key and the object type only: the value is what must not be logged. Debug,
                # not warning: dropping a value is the rule working (statuses, levels, courts are
                # named under `fields`), and tests/audit/test_audit_vocabulary.py pins the words kept.
                logger.debug("audit detail value dropped: object_type=%s key=%s", object_type, key)
    if dropped:
        fields = kept.get("fields")
        names = fields if isinstance(fields, list) else []
        kept["fields"] = sorted({*names, *(k for k in dropped if _FIELD_NAME.match(k))})
    return kept


# --- writing -------------------------------------------------------------------------------------


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


# --- the chain -----------------------------------------------------------------------------------


def canonical(event: AuditEvent) -> str:
    """The bytes the chain hashes: the signed content and the sequence number."""
    return json_dumps_canonical({**_signed_content(event), "seq": event.seq})


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode()).hexdigest()


def mac_ok(event: AuditEvent) -> bool:
    return bool(event.mac) and hmac.compare_digest(event.mac, event_mac(event))


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


# --- checkpoints ---------------------------------------------------------------------------------


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


# --- verification --------------------------------------------------------------------------------


class Kind:
    """What a finding says happened (SPEC §5)."""

    EDITED = "edited_event"  # a byte of an event changed (its MAC and/or its chain hash fail)
    DELETED = "deleted_event"  # a sequence number is missing inside the chain
    REWRITTEN = "rewritten_suffix"  # the chain was recomputed from some event on: a checkpoint disagrees
    CUT = "cut_tail"  # the chain ends before the last checkpoint's head
    FORGED = "forged_insert"  # an event the application did not write: its MAC fails, its links hold
    FORGED_CHECKPOINT = "forged_checkpoint"  # a checkpoint whose signature fails (or an unreadable line)


@dataclass
class Finding:
    kind: str
    event_id: int | None
    seq: int | None
    reason: str


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    unsealed: int
    broken_event_id: int | None = None
    broken_seq: int | None = None
    kind: str = ""
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    checkpoints: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Findings kept in full (a rewritten million-event suffix needs naming once, not a million times).
MAX_FINDINGS = 100


def _dedupe(checkpoints: Iterable[Checkpoint]) -> list[Checkpoint]:
    return sorted(set(checkpoints), key=lambda c: (c.seq, c.created_at))


def _finding_order(f: Finding) -> tuple[int, int]:
    """Sealed events in chain order (a cut tail after them), then unsealed ones by id, then
    findings about checkpoints alone."""
    if f.seq is not None and (f.event_id is not None or f.kind == Kind.CUT):
        return (0, f.seq)
    if f.event_id is not None:
        return (1, f.event_id)
    return (2, 0)


def audit_verify(
    *, checkpoints: Iterable[Checkpoint] | None = None, unreadable_checkpoints: int = 0, chunk: int = 10000
) -> VerifyResult:
    """Recompute every MAC, the chain and the checkpoints; name the first broken event and the
    kind of each tampering found. `checkpoints`: those to check against (default: the table's)."""
    findings: list[Finding] = []

    def add(kind: str, event_id: int | None, seq: int | None, reason: str) -> None:
        if len(findings) < MAX_FINDINGS:
            findings.append(Finding(kind, event_id, seq, reason))

    all_checkpoints = _dedupe(checkpoints_from_table() if checkpoints is None else checkpoints)
    valid = []
    for cp in all_checkpoints:
        if cp.mac_ok():
            valid.append(cp)
        else:
            add(Kind.FORGED_CHECKPOINT, None, cp.seq, "a checkpoint's signature fails: it was not written with the key")
    for _ in range(unreadable_checkpoints):
        add(Kind.FORGED_CHECKPOINT, None, None, "a checkpoint line could not be read")
    wanted = {cp.seq for cp in valid}
    at_seq: dict[int, tuple[str, int]] = {}

    prev_hash, expected, checked, last_seq = GENESIS, 1, 0, 0
    suspect: AuditEvent | None = None  # MAC fails, own hash holds: decided by the next link
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:chunk])
        if not rows:
            break
        for event in rows:
            assert event.seq is not None  # filtered on seq__gt
            gap = event.seq != expected
            linked = event.prev_hash == prev_hash
            explained = False
            if suspect is not None:
                if linked and not gap:
                    add(Kind.FORGED, suspect.pk, suspect.seq, "its MAC fails while its chain links hold")
                else:
                    add(Kind.EDITED, suspect.pk, suspect.seq, "its MAC fails; it was re-hashed alone")
                    explained = True
                suspect = None
            own_hash = event.hash == chain_hash(event.prev_hash, event)
            signed = mac_ok(event)
            if gap:
                add(Kind.DELETED, event.pk, event.seq, f"seq {expected} to {event.seq - 1} missing before it")
            elif not linked and not explained and own_hash:
                add(Kind.EDITED, event.pk, event.seq, "its link to the previous event does not hold")
            if not own_hash:
                add(Kind.EDITED, event.pk, event.seq, "its chain hash fails" + ("" if signed else " and its MAC fails"))
            elif not signed:
                suspect = event
            checked += 1
            if event.seq in wanted:
                at_seq[event.seq] = (event.hash, checked)
            prev_hash, expected, last_seq = event.hash, event.seq + 1, event.seq
    if suspect is not None:
        add(Kind.FORGED, suspect.pk, suspect.seq, "its MAC fails while its chain links hold")

    unsealed = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__isnull=True, id__gt=last_id).order_by("id")[:chunk])
        if not rows:
            break
        for event in rows:
            unsealed += 1
            if not mac_ok(event):
                add(Kind.FORGED, event.pk, None, "an event awaiting its seal whose MAC fails")
            last_id = event.pk

    # Against the checkpoints: a head the chain no longer reaches is a cut tail; a head whose hash
    # or count the chain no longer has means the chain was recomputed since.
    good_up_to = 0
    for cp in valid:
        if cp.seq == 0:
            continue
        if cp.seq > last_seq:
            if cp is valid[-1]:
                add(
                    Kind.CUT,
                    None,
                    last_seq + 1,
                    f"the chain ends at seq {last_seq}; a checkpoint saw seq {cp.seq} ({cp.count} events)",
                )
            continue
        digest, count = at_seq.get(cp.seq, ("", -1))
        if digest == cp.hash and count == cp.count:
            good_up_to = cp.seq
            continue
        in_range = [f for f in findings if f.seq is not None and good_up_to < f.seq <= cp.seq and f.event_id]
        for f in in_range:
            if f.kind == Kind.FORGED:
                f.kind = Kind.REWRITTEN
                f.reason = "its MAC fails and the chain was recomputed past it: a checkpoint disagrees"
        if not in_range:
            first = (
                AuditEvent.objects.filter(seq__gt=good_up_to).order_by("seq").values_list("id", "seq").first()
            ) or (None, good_up_to + 1)
            add(Kind.REWRITTEN, first[0], first[1], f"the chain differs from the checkpoint of seq {cp.seq}")
        good_up_to = cp.seq

    findings.sort(key=_finding_order)
    result = VerifyResult(not findings, checked, unsealed, findings=findings, checkpoints=len(all_checkpoints))
    if findings:
        first_finding = findings[0]
        result.broken_event_id, result.broken_seq = first_finding.event_id, first_finding.seq
        result.kind, result.reason = first_finding.kind, first_finding.reason
    return result


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


# --- verification through the API ---------------------------------------------------------------


def _verify_now() -> VerifyResult:
    checkpoints, unreadable = default_checkpoints()
    return audit_verify(checkpoints=checkpoints, unreadable_checkpoints=unreadable)


@dataclass
class VerifyAnswer:
    result: VerifyResult | None = None
    job: AuditVerifyJob | None = None


def audit_verify_request(*, actor: Any) -> VerifyAnswer:
    """An auditor asks for the integrity check (POST /api/v1/audit-events/verify/): a log of up
    to HARBOR_AUDIT_VERIFY_SYNC_LIMIT events is verified at once; a larger one by the worker,
    as a job to poll. The request is itself audited (ids and counts only)."""
    size = AuditEvent.objects.count()
    if size <= settings.HARBOR_AUDIT_VERIFY_SYNC_LIMIT:
        result = _verify_now()
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=AuditEvent.Action.VERIFY,
                object_type="audit_log",
                outcome=AuditEvent.Outcome.SUCCESS if result.ok else AuditEvent.Outcome.FAILURE,
                detail={"checked": result.checked, "findings": len(result.findings), "broken": result.broken_event_id},
            )
        return VerifyAnswer(result=result)
    return VerifyAnswer(job=audit_verify_job_create(actor=actor))


@transaction.atomic
def audit_verify_job_create(*, actor: Any) -> AuditVerifyJob:
    """A verification for the worker to run (the log is too large to verify in a request)."""
    from .tasks import audit_verify_task

    job = AuditVerifyJob.objects.create(requested_by_id=actor.pk, created_at=timezone.now())
    audit_record(actor=actor, action=AuditEvent.Action.VERIFY, object_type="audit_verify_job", object_id=job.pk)
    audit_verify_task.delay_on_commit(job.pk)
    return job


def audit_verify_job_run(*, job_id: int) -> None:
    """The worker's half: idempotent (a redelivered job that already finished is left alone)."""
    with transaction.atomic():
        job = AuditVerifyJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == AuditVerifyJob.Status.DONE:
            return
        job.status = AuditVerifyJob.Status.RUNNING
        job.save(update_fields=["status"])
    try:
        result = _verify_now()
    except Exception:
        AuditVerifyJob.objects.filter(pk=job_id).update(status=AuditVerifyJob.Status.FAILED, finished_at=timezone.now())
        raise
    AuditVerifyJob.objects.filter(pk=job_id).update(
        status=AuditVerifyJob.Status.DONE, finished_at=timezone.now(), result=result.as_dict()
    )
