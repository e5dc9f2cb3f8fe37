"""On PostgreSQL the database itself refuses to change or remove an audit event.

The only UPDATE allowed is the one-time sealing of an unsealed row (seq, prev_hash and hash
going from empty to set, every other column unchanged). SQLite (embedded default) has no such
trigger: it is a single-user development database. TRUNCATE stays possible for the test
suite's flush; production grants the application role no TRUNCATE (see README).
"""

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
       AND NEW.detail::text = OLD.detail::text THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
BEFORE UPDATE OR DELETE ON audit_auditevent
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
