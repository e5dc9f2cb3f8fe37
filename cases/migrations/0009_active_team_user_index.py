"""A case worker's live team rows by user, as a partial index (issue 19): their visible cases,
referrals and deadlines all start from these rows, and the index answers them without a visit
to each row for `removed_at`. Built CONCURRENTLY on PostgreSQL (core.migration_operations)."""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0008_case_status_fsm"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="caseteammember",
            index=models.Index(
                condition=models.Q(("removed_at__isnull", True)), fields=["user", "case"], name="active_team_user_idx"
            ),
        ),
    ]
