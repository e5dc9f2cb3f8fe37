"""Bulk statements for the hot paths that write many rows at once (the deadline sweep, the audit
events of a list page). Written by hand because Django's bulk_create and bulk_update compile a
placeholder per row and field — for a sweep of 1,000 deadlines more time than PostgreSQL spends
running the statement — and its cursors bind parameters on the client, quoting every element of
an array into the SQL text. Here each column travels as one binary array parameter
(`unnest(%b::type[], …)`), on a server-side-binding psycopg cursor over Django's own connection,
so the statement runs in the caller's transaction.

PostgreSQL only: each caller keeps a portable twin (the ORM path SQLite runs, the embedded
default), chosen with `fast_paths()`. HARBOR_DB_FAST_PATHS=false runs the twin on PostgreSQL too,
and CI runs the fast paths' tests both ways."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection


def fast_paths() -> bool:
    """Whether the PostgreSQL-only statements run (else their portable twins do)."""
    return connection.vendor == "postgresql" and settings.HARBOR_DB_FAST_PATHS


def bound_cursor() -> Any:
    """A psycopg cursor with server-side binding on Django's connection (same transaction),
    wrapped as Django wraps its own cursors (its public make_cursor / make_debug_cursor), so
    execute wrappers, query counting in tests and the debug query log see its statements."""
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw: Any = psycopg.Cursor(connection.connection)  # Django's wrappers take any DB-API cursor
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def unnest_arrays(columns: Sequence[tuple[str, str]]) -> str:
    """`%b::type[], …` for `unnest(…)`, one binary array parameter per (name, SQL type)."""
    return ", ".join(f"%b::{sql_type}[]" for _, sql_type in columns)


def column_arrays(rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> list[list[Any]]:
    """The rows (dicts by column name) as one list per column, in `columns` order."""
    rows = list(rows)
    return [[row[name] for row in rows] for name, _ in columns]


def insert_rows(
    table: str, columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]], *, suffix: str = ""
) -> list[tuple[Any, ...]]:
    """INSERT INTO table (columns) SELECT * FROM unnest(arrays) [suffix]; the RETURNING rows if
    `suffix` asks for them. `table`, `columns` and `suffix` are the caller's constants."""
    names = ", ".join(name for name, _ in columns)
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({unnest_arrays(columns)}) {suffix}"  # noqa: S608
    with bound_cursor() as cursor:
        cursor.execute(sql, column_arrays(rows, columns))
        return cursor.fetchall() if cursor.description is not None else []
