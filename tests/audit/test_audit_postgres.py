"""On PostgreSQL the database itself keeps the audit log append-only, and concurrent writers and
sealers never fork the chain. These need a real PostgreSQL (trigger, advisory lock, real
concurrency); they skip locally without DATABASE_URL and are mandatory in CI."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services.chain import audit_seal
from audit.services.record import audit_record
from audit.services.verify import audit_verify
from core.permissions import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.postgres


def _record(n: int) -> list[AuditEvent]:
    with transaction.atomic():
        return [
            audit_record(actor=None, action=AuditEvent.Action.VIEW, object_type="case", object_id=i) for i in range(n)
        ]


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
@pytest.mark.parametrize("sealed", [False, True])
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'delete' WHERE id = %s",
        "UPDATE audit_auditevent SET detail = '{}'::jsonb WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete(sql, sealed):
    # given
    event = _record(1)[0]
    if sealed:
        audit_seal()

    # when / then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditEvent.Action.VIEW).exists()


@pytest.mark.django_db
def test_a_sealed_event_cannot_be_resealed():
    # given
    event = _record(1)[0]
    audit_seal()

    # when / then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw("UPDATE audit_auditevent SET seq = 99, hash = 'f', prev_hash = 'e' WHERE id = %s", [event.pk])


@pytest.mark.django_db
def test_sealing_cannot_smuggle_in_a_change():
    # given: an unsealed event
    event = _record(1)[0]

    # when / then: the one allowed update sets the chain columns and nothing else
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _raw(
            "UPDATE audit_auditevent SET seq = 1, hash = 'f', prev_hash = 'e', outcome = 'denied' WHERE id = %s",
            [event.pk],
        )


@pytest.mark.django_db
def test_with_the_trigger_disabled_a_tampered_event_is_named_by_verify():
    # given
    events = _record(5)
    audit_seal()
    target = events[3]

    # when: someone with table-owner rights switches the trigger off and edits a sealed row
    _raw("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", [])
    try:
        _raw("UPDATE audit_auditevent SET action = 'export' WHERE id = %s", [target.pk])
    finally:
        _raw("ALTER TABLE audit_auditevent ENABLE TRIGGER ALL", [])

    # then
    result = audit_verify()
    assert (result.ok, result.broken_event_id) == (False, target.pk)
    with pytest.raises(CommandError, match=rf"BROKEN at event {target.pk}\b") as excinfo:
        call_command("audit_verify", stdout=StringIO())
    assert excinfo.value.returncode != 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_never_fork_the_chain():
    # given
    agency = AgencyFactory(code="DCFS")
    actors = [UserFactory(username=f"writer{i}", agency=agency, role=Role.CASE_WORKER) for i in range(2)]
    per_writer = 150
    start = threading.Barrier(4)
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def writer(actor) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    audit_record(actor=actor, action=AuditEvent.Action.VIEW, object_type="case", object_id=i)
                    if i % 3 == 0:  # some transactions carry several events
                        audit_record(actor=actor, action=AuditEvent.Action.LIST, object_type="case")
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    def sealer() -> None:
        try:
            start.wait()
            while not writers_done.is_set():
                audit_seal(batch_size=7)
            audit_seal(batch_size=7)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    writer_threads = [threading.Thread(target=writer, args=(a,)) for a in actors]
    sealer_threads = [threading.Thread(target=sealer) for _ in range(2)]

    # when
    for thread in [*writer_threads, *sealer_threads]:
        thread.start()
    for thread in writer_threads:
        thread.join(timeout=120)
    writers_done.set()
    for thread in sealer_threads:
        thread.join(timeout=120)
    audit_seal()

    # then
    assert errors == []
    expected = 2 * (per_writer + len(range(0, per_writer, 3)))
    assert AuditEvent.objects.count() == expected
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, expected + 1))
    result = audit_verify()
    assert (result.ok, result.checked, result.unsealed) == (True, expected, 0)
