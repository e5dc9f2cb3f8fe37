"""A list of ids that the database can search: `bigint[]` with a GIN index on PostgreSQL, a
JSON list on SQLite (the embedded default), and one lookup, `__has`, for both.

`youth_ids__has=7` is `youth_ids @> ARRAY[7]` on PostgreSQL (the GIN index answers it) and an
`EXISTS (… json_each …)` on SQLite — the portable twin, for a single-user development file."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models import Lookup


class IdListField(models.Field):
    description = "A list of integer ids"

    def db_type(self, connection: Any) -> str:
        return "bigint[]" if connection.vendor == "postgresql" else "text"

    def get_internal_type(self) -> str:
        return "IdListField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return json.loads(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        ids = [int(v) for v in value]
        return ids if connection.vendor == "postgresql" else json.dumps(ids)


@IdListField.register_lookup
class HasId(Lookup):
    """The list contains this one id."""

    lookup_name = "has"
    prepare_rhs = False

    # django-stubs 6.x types SQL params as tuples (Django 6); Django 5.2 builds and extends them
    # as lists (Lookup.get_db_prep_lookup returns ("%s", [value]); BuiltinLookup.as_sql extends
    # the lhs params), so these keep Django 5.2's lists and the override check disagrees.
    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[int]]:  # type: ignore[override]
        return "%s", [int(value)]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        # The portable twin (SQLite's JSON functions; a JSON text column).
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # lhs is the compiled column, rhs a placeholder: no value is formatted into the SQL.
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})"  # noqa: S608
        return sql, [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        # The fast path: array containment, which the GIN index on the column answers.
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @> ARRAY[{rhs}]::bigint[]", [*lhs_params, *rhs_params]
