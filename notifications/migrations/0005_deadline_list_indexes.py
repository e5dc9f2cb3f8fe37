"""The open and outstanding deadline lists' own indexes (issue 19: a supervisor's list walks
them and stops after a page). Built CONCURRENTLY on PostgreSQL, so a rolling deploy does not
block the sweep's and the requests' writes to notifications_deadline while it builds."""

from django.db import migrations, models

from core.migration_operations import AddIndexConcurrentlyOnPostgres


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
