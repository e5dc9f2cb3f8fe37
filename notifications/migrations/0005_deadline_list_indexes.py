"""The open and outstanding deadline lists' own indexes (issue 19: a supervisor's list walks
them and stops after a page). Built CONCURRENTLY on PostgreSQL, so a rolling deploy does not
block the sweep's and the requests' writes to notifications_deadline while it builds."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


def _concurrently(schema_editor):
    # Not inside a transaction: `sqlmigrate` in a test's transaction (the migration linter) and
    # SQLite get the plain CREATE INDEX, which is what CONCURRENTLY is there without the wait.
    return schema_editor.connection.vendor == "postgresql" and not schema_editor.connection.in_atomic_block


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain AddIndex elsewhere (SQLite, `make run`)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _concurrently(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _concurrently(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("notifications", "0004_clocks_follow_the_facts"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="deadline",
            index=models.Index(condition=models.Q(("status", "open")), fields=["due_at", "id"], name="deadline_open_due_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "missed"])),
                fields=["due_at", "id"],
                name="deadline_outstanding_due_idx",
            ),
        ),
    ]
