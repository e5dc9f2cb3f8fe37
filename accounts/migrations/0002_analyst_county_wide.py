"""The analyst role (SPEC §1, §9) and the agencies whose analysts read county-wide reports."""

from django.db import migrations, models


def court_agencies_county_wide(apps, schema_editor):  # type: ignore[no-untyped-def]
    # SPEC §1: the court is the county-wide agency its analysts read the county's reports for.
    apps.get_model("accounts", "Agency").objects.filter(kind="court").update(is_county_wide=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="agency",
            name="is_county_wide",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(
                choices=[
                    ("case_worker", "Case worker"),
                    ("supervisor", "Supervisor"),
                    ("mdt_member", "MDT member"),
                    ("agency_admin", "Agency admin"),
                    ("system_admin", "System admin"),
                    ("auditor", "Auditor"),
                    ("analyst", "Analyst"),
                ],
                default="case_worker",
                max_length=32,
            ),
        ),
        migrations.RunPython(court_agencies_county_wide, migrations.RunPython.noop),
    ]
