"""The input fields the MDT views share: ids, bounded times, named enums, the users one may pick."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from accounts.models import User
from core.times import BoundedDateTimeField


def active_users() -> Any:
    return User.objects.filter(is_active=True).select_related("agency")


#: The largest id a database integer column holds: larger input is a 400, not a database error.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    """An object id in a body or a filter."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


SANE_YEAR_MESSAGE = "Must be between the years 2000 and 2100."


def is_sane_year(value: Any) -> bool:
    return 2000 <= value.year <= 2100


class SaneDateTimeField(BoundedDateTimeField):
    """ISO 8601 with offset, between the years 2000 and 2100: a mistyped year is a 400, never an
    overflow in the clock arithmetic (weekly series, deadlines)."""

    default_error_messages = {"out_of_range": SANE_YEAR_MESSAGE}

    def to_internal_value(self, value: Any) -> Any:
        result = super().to_internal_value(value)
        if not is_sane_year(result):
            self.fail("out_of_range")
        return result


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose enum gets its own schema component name (`MeetingStatusEnum`,
    `ActionItemStatusEnum`): several objects have a `status` with different choices, and
    drf-spectacular's by-field-name enum naming would collide."""

    def __init__(self, *, enum_name: str, **kwargs: Any):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        from drf_spectacular.plumbing import ResolvedComponent

        component = ResolvedComponent(
            name=self.target.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=self.target.enum_name,
            schema={"type": "string", "enum": [str(key) for key in self.target.choices]},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
