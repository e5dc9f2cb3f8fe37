"""The reports' index (issue 19): deadlines by when they started, so a quarter's compliance and
First Responder Protocol reports read that quarter's range instead of scanning every deadline.
Built CONCURRENTLY on PostgreSQL, as 0005's are."""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("notifications", "0006_deadline_status_fsm"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="deadline",
            index=models.Index(fields=["starts_at"], name="deadline_starts_idx"),
        ),
    ]
