"""Bulk loading for the synthetic data: PostgreSQL COPY through psycopg 3, ids allocated up front
so rows can reference one another before they are written, and identity sequences moved past
what was loaded. Seed-only code: it bypasses model save() (and so history, signals, audit),
which is exactly what a bulk load of synthetic data wants and what no product path may do."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], progress: Any = None
) -> int:
    """COPY `rows` (tuples in the order of `columns` — the table's column names — with values
    already in their database form: encrypted tokens, JSON text, aware datetimes) into the
    model's table. Returns the count.

    A NOT NULL column the caller leaves out that has a default gets that default on every row,
    in its database form, as the ORM would write it: a column added to a model later (a reason,
    an encrypted list) needs no edit to every seed stage."""
    table = connection.ops.quote_name(model._meta.db_table)
    known = {f.column for f in model._meta.concrete_fields}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError(f"{model._meta.label}: no column {unknown}")
    filled = [
        f
        for f in model._meta.concrete_fields
        if f.column not in columns and not f.null and f.has_default() and not f.primary_key
    ]
    extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in filled)
    cols = ", ".join(connection.ops.quote_name(c) for c in [*columns, *(f.column for f in filled)])
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # noqa: S608 - names from the model
            for row in rows:
                copy.write_row((*row, *extra) if extra else row)
                count += 1
                if progress is not None and count % 1000 == 0:
                    progress.update(1000)
    if progress is not None:
        progress.update(count % 1000)
    return count


def next_id(model: type[models.Model]) -> int:
    """The first id free for a bulk load (the table is ours while seeding)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def reset_sequence(model: type[models.Model]) -> None:
    """Move the id sequence past the rows loaded with explicit ids."""
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM {quoted}), 1))"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [table])


def jtext(value: Any) -> str:
    """JSON column text (json/jsonb accept it through COPY's text format)."""
    return json.dumps(value, separators=(",", ":"))


def prep(model: type[models.Model], field: str, value: Any) -> Any:
    """The database form of `value` for `field`: for the encrypted fields, the Fernet token the
    field itself produces (so seeded rows are encrypted exactly like real ones)."""
    return model._meta.get_field(field).get_prep_value(value)
