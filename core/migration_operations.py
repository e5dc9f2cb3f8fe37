"""Migration operations shared by the apps' migrations."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


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
