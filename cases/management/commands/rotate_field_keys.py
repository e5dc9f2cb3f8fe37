"""Re-encrypt every encrypted column under the newest field key (HARBOR_FIELD_KEYS' first).

Key rotation: put the new key first in HARBOR_FIELD_KEYS (keep the old ones after it), restart,
run this command, then drop the old keys. It walks every table that has an encrypted column —
current rows and their history — in primary-key order, batch by batch, each batch in its own
transaction. A value already under the newest key is left alone, so the command is resumable:
run it again after an interruption and it carries on where it stopped, doing nothing twice.
Values are rewritten with plain SQL so that rotation neither adds history rows nor moves ETags.

`--reindex` also recomputes the blind indexes and duplicate-search keys (needed after changing
HARBOR_BLIND_INDEX_KEY).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Model
from tqdm import tqdm

from audit.models import AuditEvent
from audit.services.record import audit_record
from cases import crypto


def encrypted_models() -> list[tuple[type[Model], list[str]]]:
    found = []
    for model in apps.get_models():
        columns = crypto.encrypted_columns(model)
        if columns and not model._meta.proxy and model._meta.managed:  # noqa: SLF001 - Django's public Model._meta API
            found.append((model, columns))
    return sorted(found, key=lambda item: item[0]._meta.db_table)  # noqa: SLF001 - Django's public Model._meta API


def rotate_table(model: type[Model], columns: list[str], *, batch_size: int, progress: Any = None) -> tuple[int, int]:
    """Rotate one table. Returns (values rotated, rows touched)."""
    qn = connection.ops.quote_name
    pk_column = model._meta.pk.column  # noqa: SLF001 - Django's public Model._meta API
    assert pk_column is not None  # a concrete field (the primary key) always has its column
    table, pk = qn(model._meta.db_table), qn(pk_column)  # noqa: SLF001 - Django's public Model._meta API
    cols = ", ".join(qn(c) for c in columns)
    assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
    select = f"SELECT {pk}, {cols} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s"  # noqa: S608 - names from the model
    update = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    last: Any = -1
    values_rotated = rows_touched = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [last, batch_size])
            rows = cursor.fetchall()
            if not rows:
                return values_rotated, rows_touched
            changes = []
            for row in rows:
                new = list(row[1:])
                changed = False
                for i, value in enumerate(new):
                    if value and value.startswith(crypto.PREFIX) and not crypto.is_current(value):
                        new[i] = crypto.rotate(value)
                        changed = True
                        values_rotated += 1
                if changed:
                    changes.append([*new, row[0]])
            if changes:
                cursor.executemany(update, changes)
                rows_touched += len(changes)
        last = rows[-1][0]
        if progress is not None:
            progress.update(len(rows))


def reindex(*, batch_size: int) -> int:
    """Recompute blind indexes and search keys from the (decrypted) values."""
    from cases.models import Youth, YouthExternalId
    from cases.services.youth import youth_index, youth_search_keys_sync

    count = 0
    last = 0
    while True:
        with transaction.atomic():
            batch = list(Youth.objects.filter(pk__gt=last).order_by("pk")[:batch_size])
            if not batch:
                break
            for youth in batch:
                youth_index(youth)
                Youth.objects.filter(pk=youth.pk).update(
                    first_name_bidx=youth.first_name_bidx,
                    last_name_bidx=youth.last_name_bidx,
                    date_of_birth_bidx=youth.date_of_birth_bidx,
                )
                youth_search_keys_sync(youth)
            count += len(batch)
            last = batch[-1].pk
    for ext in YouthExternalId.objects.order_by("pk").iterator(chunk_size=batch_size):
        YouthExternalId.objects.filter(pk=ext.pk).update(value_bidx=crypto.blind_index(ext.value))
    return count


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the newest HARBOR_FIELD_KEYS key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--reindex", action="store_true", help="Also recompute blind indexes and search keys.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        crypto.reset_key_cache()
        batch_size = max(1, options["batch_size"])
        tables = encrypted_models()
        qn = connection.ops.quote_name
        total = 0
        with connection.cursor() as cursor:
            for model, _ in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {qn(model._meta.db_table)}")  # noqa: S608, SLF001 - names from the model; Django's public Model._meta API
                total += cursor.fetchone()[0]
        rotated = touched = 0
        with tqdm(
            total=total, unit="row", disable=options["no_progress"], file=self.stderr, desc="rotating"
        ) as progress:
            for model, columns in tables:
                values, rows = rotate_table(model, columns, batch_size=batch_size, progress=progress)
                rotated += values
                touched += rows
        reindexed = reindex(batch_size=batch_size) if options["reindex"] else 0
        audit_record(
            actor=None,
            action=AuditEvent.Action.UPDATE,
            object_type="field_keys",
            detail={"values_rotated": rotated, "rows": touched, "tables": len(tables), "reindexed": reindexed},
        )
        self.stdout.write(
            f"rotated {rotated} values in {touched} rows across {len(tables)} tables"
            + (f"; reindexed {reindexed} youth" if options["reindex"] else "")
        )
