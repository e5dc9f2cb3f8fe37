"""The audit log (SPEC §5): written in the change's transaction, sealed into a hash chain that
`audit_verify` recomputes and that names the first broken event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts import services
from audit.models import AuditEvent
from audit.services.chain import GENESIS, audit_seal
from audit.services.record import AuditEntry, audit_record, audit_record_many
from audit.services.verify import audit_verify
from core.errors import ApplicationError
from core.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN)


def _record(actor, n: int, **kwargs: object) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return [
            audit_record(actor=actor, action=AuditEvent.Action.VIEW, object_type="case", object_id=i, **kwargs)
            for i in range(n)
        ]


def test_an_event_records_actor_agency_and_request_context(actor):
    # when
    event = audit_record(actor=actor, action=AuditEvent.Action.VIEW, object_type="youth", object_id=7, youth_id=7)

    # then
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_agency, stored.object_type, stored.object_id, stored.youth_id) == (
        actor.pk,
        "DCFS",
        "youth",
        "7",
        7,
    )
    assert stored.outcome == AuditEvent.Outcome.SUCCESS
    assert stored.occurred_at.utcoffset().total_seconds() == 0
    assert stored.seq is None and stored.hash == ""


def test_an_event_recorded_in_a_rolled_back_transaction_leaves_nothing(actor):
    def record_then_fail() -> None:
        with transaction.atomic():
            audit_record(actor=actor, action=AuditEvent.Action.UPDATE, object_type="user", object_id=1)
            audit_record_many(actor=actor, entries=[AuditEntry(AuditEvent.Action.VIEW, "case", 2)])
            raise RuntimeError("the change failed")

    # when
    with pytest.raises(RuntimeError, match="the change failed"):
        record_then_fail()

    # then
    assert AuditEvent.objects.count() == 0


def test_a_failed_service_call_leaves_no_event(actor, agencies):
    # given
    worker = UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)

    # when: the name change is applied first, then the weak password is refused
    with pytest.raises(ApplicationError):
        services.user_update(actor=actor, user=worker, data={"first_name": "Changed", "password": "short"})

    # then
    assert not AuditEvent.objects.filter(object_type="user").exists()
    worker.refresh_from_db()
    assert worker.first_name == "Test"


def test_seal_links_every_event_into_one_chain(actor):
    # given
    _record(actor, 5)

    # when
    sealed = audit_seal()

    # then
    assert sealed == 5
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    assert all(len(e.hash) == 64 for e in events)
    assert audit_verify().ok


def test_seal_is_incremental_and_idempotent(actor):
    # given
    _record(actor, 3)
    audit_seal()

    # when
    again = audit_seal()
    _record(actor, 4)
    more = audit_seal(batch_size=3)  # several batches in one call

    # then
    assert (again, more) == (0, 4)
    result = audit_verify()
    assert (result.ok, result.checked, result.unsealed) == (True, 7, 0)
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 8))


def test_seal_then_verify_ok_and_the_command_says_so(actor):
    # given
    _record(actor, 4)
    audit_seal()
    out = StringIO()

    # when
    call_command("audit_verify", stdout=out)

    # then
    assert out.getvalue().strip() == "OK 4 events"


def test_the_command_reports_events_awaiting_the_seal_and_can_seal_them(actor):
    # given
    _record(actor, 2)
    audit_seal()
    _record(actor, 3)
    before, after = StringIO(), StringIO()

    # when
    call_command("audit_verify", stdout=before)
    call_command("audit_verify", "--seal", stdout=after)

    # then
    assert before.getvalue().strip() == "OK 2 events (3 awaiting seal)"
    assert after.getvalue().strip() == "OK 5 events"


def test_an_empty_log_verifies(db):
    # given
    out = StringIO()

    # when
    call_command("audit_verify", stdout=out)

    # then
    assert out.getvalue().strip() == "OK 0 events"


# Tampering. On PostgreSQL the trigger refuses these writes (tests/audit/test_audit_postgres.py);
# here the check is that the chain itself notices whatever gets through.


@contextmanager
def _tampering() -> Iterator[None]:
    """Switch PostgreSQL's append-only trigger off for the block (as a table owner could)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER ALL")


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", AuditEvent.Action.DELETE), ("actor_id", 999), ("detail", {"fields": ["role"]}), ("youth_id", 3)],
)
def test_verify_names_the_altered_event(actor, column, value):
    # given
    events = _record(actor, 5)
    audit_seal()
    target = events[2]

    # when
    with _tampering():
        AuditEvent.objects.filter(pk=target.pk).update(**{column: value})
    result = audit_verify()

    # then: every event is checked; the altered one is named, as an edit
    assert (result.ok, result.broken_event_id, result.kind, result.checked) == (False, target.pk, "edited_event", 5)
    with pytest.raises(CommandError, match=rf"BROKEN at event {target.pk}\b"):
        call_command("audit_verify", stdout=StringIO())


def test_verify_notices_a_deleted_event(actor):
    # given
    events = _record(actor, 5)
    audit_seal()

    # when
    with _tampering():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    result = audit_verify()

    # then: the event after the gap is named
    assert (result.ok, result.broken_event_id, result.kind) == (False, events[2].pk, "deleted_event")


def test_verify_notices_a_rehashed_event(actor):
    # given: a forger recomputes the altered event's own hash, but not its successors'
    from audit.services.chain import chain_hash

    events = _record(actor, 4)
    audit_seal()
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.action = AuditEvent.Action.DELETE
    with _tampering():
        AuditEvent.objects.filter(pk=forged.pk).update(action=forged.action, hash=chain_hash(forged.prev_hash, forged))

    # when
    result = audit_verify()

    # then: the forged event itself is named now (its MAC fails), not only its successor's link
    assert (result.ok, result.broken_event_id, result.kind) == (False, events[1].pk, "edited_event")


def test_the_canonical_form_carries_ids_only(actor):
    # given
    worker = UserFactory(username="dcfs_worker", agency=actor.agency, role=Role.CASE_WORKER, first_name="Marisol")

    # when
    services.user_update(actor=actor, user=worker, data={"first_name": "Esperanza"})

    # then
    event = AuditEvent.objects.get(object_type="user", object_id=str(worker.pk))
    from audit.services.chain import canonical

    assert "Marisol" not in canonical(event) and "Esperanza" not in canonical(event)
