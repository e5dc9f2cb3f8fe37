"""Verifying the audit log (SPEC §5): every MAC, the chain and the checkpoints recomputed, the
first broken event and the kind of each tampering named; in the request, or by the worker as
a job to poll when the log is large."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AuditEvent, AuditVerifyJob
from .chain import GENESIS, chain_hash
from .checkpoints import Checkpoint, checkpoints_from_table, default_checkpoints
from .record import audit_record, mac_ok


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
    from ..tasks import audit_verify_task

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
