"""SPEC §5 (December 2026): PostgreSQL refuses TRUNCATE of the audit log too, and of its
checkpoints; the one UPDATE the sealer may make leaves the new columns (mac, object_ids,
youth_ids) unchanged; the checkpoint table is append-only outright.

Events written before this revision have no MAC: they are signed here, once, with the key of
the settings (the migration runs in the application, which holds it). Their integrity up to
now rests on the chain alone, which audit_verify checked before (run it before migrating).

A superuser can still get past any trigger (`session_replication_role = replica`, or
`ALTER TABLE … DISABLE TRIGGER` as the table's owner): the MACs and the checkpoints outside
the database are what catch that. The test suite's flush uses exactly that bypass
(tests/conftest.py)."""

import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'audit events are append-only';
    END IF;
    IF OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND OLD.hash = '' AND OLD.prev_hash = ''
       AND NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.actor_agency = OLD.actor_agency
       AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id
       AND NEW.youth_id IS NOT DISTINCT FROM OLD.youth_id AND NEW.outcome = OLD.outcome
       AND NEW.request_id = OLD.request_id AND NEW.client_ip = OLD.client_ip
       AND NEW.detail::text = OLD.detail::text
       AND NEW.mac = OLD.mac
       AND NEW.object_ids IS NOT DISTINCT FROM OLD.object_ids
       AND NEW.youth_ids IS NOT DISTINCT FROM OLD.youth_ids THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate
BEFORE TRUNCATE ON audit_auditevent
FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

CREATE OR REPLACE FUNCTION audit_checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_checkpoint_append_only
BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_append_only();

CREATE TRIGGER audit_checkpoint_no_truncate
BEFORE TRUNCATE ON audit_auditcheckpoint
FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_append_only();
"""

#: The sealing rule as 0002 wrote it (before the new columns), restored on the way back.
OLD_FUNCTION = FORWARD[: FORWARD.index("CREATE TRIGGER")].replace(
    """
       AND NEW.mac = OLD.mac
       AND NEW.object_ids IS NOT DISTINCT FROM OLD.object_ids
       AND NEW.youth_ids IS NOT DISTINCT FROM OLD.youth_ids THEN""",
    " THEN",
)

BACKWARD = (
    OLD_FUNCTION
    + r"""
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP FUNCTION IF EXISTS audit_checkpoint_append_only();
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
"""
)


def _mac(row, key: bytes) -> str:  # type: ignore[no-untyped-def]
    # The same content and encoding as audit.services.record.event_mac, frozen here as migrations are.
    content = {
        "id": row.pk,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": row.actor_id,
        "actor_agency": row.actor_agency,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "youth_id": row.youth_id,
        "outcome": row.outcome,
        "request_id": row.request_id,
        "client_ip": row.client_ip,
        "detail": row.detail,
    }
    payload = "audit-event:" + json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def sign_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditEvent = apps.get_model("audit", "AuditEvent")
    unsigned = AuditEvent.objects.filter(mac="")
    if not unsigned.exists():
        return
    key = settings.HARBOR_AUDIT_KEY.encode()
    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    batch = []
    for row in unsigned.iterator(chunk_size=2000):
        row.mac = _mac(row, key)
        batch.append(row)
        if len(batch) >= 2000:
            AuditEvent.objects.bulk_update(batch, ["mac"])
            batch = []
    if batch:
        AuditEvent.objects.bulk_update(batch, ["mac"])
    if pg:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    sign_existing(apps, schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_event_mac_list_ids_checkpoints_verify_jobs")]
    operations = [migrations.RunPython(forward, backward)]
