"""Migrations safe for a rolling deploy (docs/operations.md "Deploys"): while the new code
migrates, the old code still runs against the same database, so a migration may not drop or
rename a column or table the old code reads, nor add a NOT NULL column without a database
default. django-migration-linter checks every migration of the project's apps; the ones
before this rule (already applied everywhere) are listed by name, and the list only shrinks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"accounts", "audit", "cases", "mdt", "notifications", "reports", "ops", "scale", "core"}
#: Applied before rolling deploys were the rule: never add to this list.
BEFORE_THE_RULE = ["0004_event_mac_list_ids_checkpoints_verify_jobs"]


def test_every_migration_is_backward_compatible(capsys):
    from django.apps import apps
    from django_migration_linter import MigrationLinter

    others = sorted({config.label for config in apps.get_app_configs()} - PROJECT_APPS)
    linter = MigrationLinter(
        None,
        database="default",
        no_cache=True,
        only_applied_migrations=False,
        exclude_apps=others,
        ignore_name=BEFORE_THE_RULE,
        all_warnings_as_errors=False,
    )
    linter.lint_all_migrations()
    out = capsys.readouterr().out
    assert linter.nb_valid > 0, out
    assert linter.nb_erroneous == 0, "\n".join(line for line in out.splitlines() if "ERR" in line or "\t" in line)
