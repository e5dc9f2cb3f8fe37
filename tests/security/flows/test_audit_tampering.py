"""Abuse stories against the audit log (SPEC §5): someone with database access — but not the
application's HARBOR_AUDIT_KEY — tries to change what the log says about who looked at a child.

Each tampering is done the way such a person would: as a superuser, the append-only trigger
switched off for the moment (`ALTER TABLE … DISABLE TRIGGER`), raw SQL, the trigger back on.
The verifier must name the kind of tampering and the first broken event. PostgreSQL only: the
trigger, the sequence and the raw SQL are its."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services.chain import audit_seal, chain_hash
from audit.services.checkpoints import audit_checkpoint
from audit.services.record import AuditEntry, audit_record, audit_record_many
from audit.services.verify import audit_verify
from core.permissions import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    return tmp_path / "checkpoints.jsonl"


@pytest.fixture
def events(agencies) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    """Six sealed reads of youth 41's records by a DCFS case worker."""
    worker = UserFactory(username="tamper_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)
    with transaction.atomic():
        written = [
            audit_record(actor=worker, action=AuditEvent.Action.VIEW, object_type="case", object_id=i, youth_id=41)
            for i in range(1, 7)
        ]
    audit_seal()
    return [AuditEvent.objects.get(pk=e.pk) for e in written]


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@contextmanager
def _trigger_off() -> Iterator[None]:
    """What a superuser or the table's owner can do: switch the append-only trigger off."""
    _raw("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL")
    try:
        yield
    finally:
        _raw("ALTER TABLE audit_auditevent ENABLE TRIGGER ALL")


def _kinds(result) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    return [(f.kind, f.event_id) for f in result.findings]


def test_an_edited_byte_is_named(events):
    # given: the log says the worker looked at case 3
    target = events[2]

    # when: one byte of it is changed (case 3 becomes case 8)
    with _trigger_off():
        _raw("UPDATE audit_auditevent SET object_id = '8' WHERE id = %s", [target.pk])

    # then
    result = audit_verify()
    assert (result.ok, result.kind, result.broken_event_id) == (False, "edited_event", target.pk)
    assert _kinds(result) == [("edited_event", target.pk)]
    with pytest.raises(CommandError, match=rf"BROKEN at event {target.pk}: edited_event"):
        call_command("audit_verify", stdout=StringIO(), stderr=StringIO())


def test_a_deleted_event_is_named(events):
    # given: a checkpoint was written after the six reads
    audit_checkpoint()

    # when: the read of case 3 is removed
    with _trigger_off():
        _raw("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])

    # then: the event after the gap is named, as a deletion
    result = audit_verify()
    assert (result.ok, result.kind, result.broken_event_id) == (False, "deleted_event", events[3].pk)
    assert f"seq {events[2].seq} to {events[2].seq}" in result.reason


def test_a_rewritten_suffix_is_named(events):
    # given: a checkpoint of the chain's head went out (log line, file, table)
    audit_checkpoint()
    target = events[2]

    # when: the event is rewritten and the chain recomputed from it onward, exactly as the
    # sealer would — everything but the MAC, which needs the key
    with _trigger_off():
        _raw("UPDATE audit_auditevent SET object_id = '8' WHERE id = %s", [target.pk])
        prev = target.prev_hash
        for event in AuditEvent.objects.filter(seq__gte=target.seq).order_by("seq"):
            digest = chain_hash(prev, event)
            _raw("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, event.pk])
            prev = digest

    # then: the chain holds together, but the MAC of the rewritten event fails and the head no
    # longer matches the checkpoint
    result = audit_verify()
    assert (result.ok, result.kind, result.broken_event_id) == (False, "rewritten_suffix", target.pk)
    assert _kinds(result) == [("rewritten_suffix", target.pk)]


def test_a_rewritten_suffix_with_every_mac_intact_is_caught_by_the_checkpoint(agencies):
    # given: two reads, a checkpoint, four more reads, another checkpoint
    def read(n: int) -> list[AuditEvent]:
        with transaction.atomic():
            written = [audit_record(actor=None, action="view", object_type="case", object_id=i) for i in range(n)]
        audit_seal()
        audit_checkpoint()
        return [AuditEvent.objects.get(pk=e.pk) for e in written]

    events = read(2) + read(4)
    third, fourth = events[2], events[3]

    # when: two events swap places and the chain is recomputed from there — no content
    # changes, so every MAC still holds and every link holds
    with _trigger_off():
        _raw("UPDATE audit_auditevent SET seq = -seq WHERE id = ANY(%s)", [[third.pk, fourth.pk]])
        _raw("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [third.seq, fourth.pk])
        _raw("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [fourth.seq, third.pk])
        prev = third.prev_hash
        for event in AuditEvent.objects.filter(seq__gte=third.seq).order_by("seq"):
            digest = chain_hash(prev, event)
            _raw("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, event.pk])
            prev = digest

    # then: only the checkpoint tells — and the verifier names where the rewrite begins (the
    # first event after the last checkpoint that still matches)
    result = audit_verify()
    assert (result.ok, result.kind, result.broken_event_id) == (False, "rewritten_suffix", fourth.pk)


def test_a_cut_tail_is_detected_against_the_checkpoint(events, checkpoint_file):
    # given: a checkpoint after the six reads
    audit_checkpoint()
    cut = events[4:]

    # when: the last two events are deleted (the chain that remains is whole)
    with _trigger_off():
        _raw("DELETE FROM audit_auditevent WHERE id = ANY(%s)", [[e.pk for e in cut]])

    # then: against the checkpoint table …
    result = audit_verify()
    assert (result.ok, result.kind, result.broken_seq) == (False, "cut_tail", cut[0].seq)
    # … and against the shipped file alone, were the table's copy deleted too
    from audit.services.checkpoints import checkpoints_from_file

    from_file, unreadable = checkpoints_from_file(checkpoint_file)
    result = audit_verify(checkpoints=from_file, unreadable_checkpoints=unreadable)
    assert (result.ok, result.kind, result.broken_seq) == (False, "cut_tail", cut[0].seq)
    with pytest.raises(CommandError, match=rf"BROKEN at seq {cut[0].seq}: cut_tail"):
        call_command("audit_verify", "--checkpoint", str(checkpoint_file), stdout=StringIO(), stderr=StringIO())


def test_a_forged_insert_fails_its_mac(events):
    # given: a copy of a genuine read, as an attacker would make it to blame someone else
    original = events[0]

    # when: the row is inserted with database access only (no trigger stands in the way of an
    # INSERT) and the sealer links it into the chain as it does every new event
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO audit_auditevent (occurred_at, actor_id, actor_agency, action, object_type, object_id,
                   youth_id, outcome, request_id, client_ip, detail, prev_hash, hash, mac)
               SELECT occurred_at, actor_id, actor_agency, action, object_type, '99', youth_id, outcome,
                   request_id, client_ip, detail, '', '', mac FROM audit_auditevent WHERE id = %s
               RETURNING id""",
            [original.pk],
        )
        (forged_id,) = cursor.fetchone()
    unsealed = audit_verify()
    audit_seal()

    # then: before and after the seal, the MAC names it
    assert (unsealed.ok, unsealed.kind, unsealed.broken_event_id) == (False, "forged_insert", forged_id)
    result = audit_verify()
    assert (result.ok, result.kind, result.broken_event_id) == (False, "forged_insert", forged_id)
    assert _kinds(result) == [("forged_insert", forged_id)]


def test_a_forged_checkpoint_is_named(events):
    # given: a checkpoint line someone wrote without the key, claiming a shorter chain
    from audit.services.checkpoints import Checkpoint

    fake = Checkpoint("2026-12-01T00:00:00+00:00", events[1].seq, events[1].hash, 2, "0" * 64)

    # when
    result = audit_verify(checkpoints=[fake])

    # then
    assert (result.ok, result.kind) == (False, "forged_checkpoint")


def test_truncate_is_refused(events):
    # when / then: the database itself refuses to empty the log or its checkpoints
    audit_checkpoint()
    for table in ("audit_auditevent", "audit_auditcheckpoint"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == len(events)
    assert audit_verify().ok


@pytest.mark.parametrize(
    "sent",
    [
        "Jasmine Carter 2010-03-14",  # a name and a birth date, typed by a client
        "Jasmíne",  # a letter outside ASCII (str.isalnum() accepted it)
        "١٢٣٤",  # digits of another script (so did it)
        "ok\r\nX-Injected: 1",  # a header split
        "x" * 65,  # too long
        "",
    ],
)
def test_an_unsafe_request_id_is_replaced(agencies, sent):
    # given
    auditor = UserFactory(username="rid_auditor", agency=agencies["DCFS"], role=Role.AUDITOR)
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=auditor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    # when
    response = client.get("/api/v1/audit-events/", HTTP_X_REQUEST_ID=sent)

    # then: a fresh id is used — in the answer and in the audit event
    event = AuditEvent.objects.get(actor_id=auditor.pk, action=AuditEvent.Action.LIST)
    assert response["X-Request-ID"] != sent and event.request_id == response["X-Request-ID"]
    assert len(event.request_id) == 32 and event.request_id.isascii() and event.request_id.isalnum()


def test_a_safe_request_id_is_kept(agencies):
    auditor = UserFactory(username="rid_auditor", agency=agencies["DCFS"], role=Role.AUDITOR)
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=auditor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/audit-events/", HTTP_X_REQUEST_ID="gw-7f3a.01_b")
    event = AuditEvent.objects.get(actor_id=auditor.pk, action=AuditEvent.Action.LIST)
    assert response["X-Request-ID"] == event.request_id == "gw-7f3a.01_b"


def test_audit_detail_never_carries_content_values(agencies):
    # given: a supervisor screens a referral (a level: case content) …
    from tests.cases.factories import create_referral

    worker = UserFactory(username="detail_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)
    supervisor = UserFactory(username="detail_supervisor", agency=agencies["DCFS"], role=Role.SUPERVISOR)
    from cases import bootstrap
    from cases.services import referrals as referral_services

    bootstrap.run()
    referral = create_referral(worker, receiving_agency=agencies["DCFS"])

    # when
    referral_services.referral_screen(referral=referral, actor=supervisor, level="high_concern", instrument="CSE-IT")
    # … and a writer is handed content outright (a status, a court, free text), once for one
    # event and once for a list page
    with transaction.atomic():
        audit_record(
            actor=supervisor,
            action=AuditEvent.Action.UPDATE,
            object_type="case",
            object_id=5,
            detail={"status": "closed", "court": "STAR", "note": "Jasmine said she ran", "case": 5},
        )
        audit_record_many(
            actor=supervisor,
            entries=[
                AuditEntry(AuditEvent.Action.LIST, "case_note", 7, 41, detail={"visibility": "clinical"}),
                AuditEntry(AuditEvent.Action.LIST, "case_note", 8, 41, detail={"visibility": "team"}),
            ],
        )

    # then: ids, flags and field names only — the keys are kept under `fields`, the values gone
    screen = AuditEvent.objects.get(actor_id=supervisor.pk, action=AuditEvent.Action.TRANSITION)
    assert "level" in screen.detail["fields"] and "high_concern" not in json.dumps(screen.detail)
    update = AuditEvent.objects.get(actor_id=supervisor.pk, action=AuditEvent.Action.UPDATE)
    assert update.detail == {"case": 5, "fields": ["court", "note", "status"]}
    listed = AuditEvent.objects.get(actor_id=supervisor.pk, action=AuditEvent.Action.LIST)
    assert listed.detail == {"count": 2, "fields": ["visibility"]}
    everything = json.dumps([e.detail for e in AuditEvent.objects.all()])
    for value in ("high_concern", "closed", "STAR", "Jasmine", "clinical"):
        assert value not in everything


@override_settings(HARBOR_AUDIT_KEY="another-key")
def test_events_signed_with_another_key_fail(events):
    """A MAC is the key's: the same log verified with another key fails from its first event."""
    result = audit_verify()
    assert (result.ok, result.broken_event_id) == (False, events[0].pk)
