"""Review outcomes are versioned (SPEC §4): an edit is a new version, the earlier kept with its
author and time. Outcomes recorded before this migration become their item's version 1."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import cases.crypto


def first_versions_from_recorded_reviews(apps, schema_editor):  # type: ignore[no-untyped-def]
    AgendaItem = apps.get_model("mdt", "AgendaItem")
    ReviewVersion = apps.get_model("mdt", "ReviewVersion")
    reviewed = AgendaItem.objects.filter(reviewed_at__isnull=False, reviewed_by__isnull=False).iterator()
    batch = []
    for item in reviewed:
        batch.append(
            ReviewVersion(
                item_id=item.pk,
                version=1,
                summary=item.review_summary,
                decisions=item.review_decisions,
                reviewed_by_id=item.reviewed_by_id,
                reviewed_at=item.reviewed_at,
            )
        )
        if len(batch) >= 500:
            ReviewVersion.objects.bulk_create(batch)
            batch = []
    ReviewVersion.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("mdt", "0001_teams_meetings_agendas"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReviewVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.PositiveIntegerField()),
                ("summary", cases.crypto.EncryptedTextField()),
                ("decisions", cases.crypto.EncryptedTextField(blank=True, default="")),
                ("reviewed_at", models.DateTimeField()),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="review_versions", to="mdt.agendaitem"
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["item", "-version"],
                "constraints": [
                    models.UniqueConstraint(fields=("item", "version"), name="mdt_one_review_version_number")
                ],
            },
        ),
        migrations.RunPython(first_versions_from_recorded_reviews, migrations.RunPython.noop),
    ]
