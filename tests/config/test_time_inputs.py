"""Every time a client sends goes through one bounded, offset-requiring parser (SPEC §6).

The parser is pinned on its own, and an invariant walks every API operation's request body,
query serializer and filter set: a time or date field that is not the bounded one fails here,
so a new endpoint cannot bring back a naive time read as Pacific, or a 500 on year 9999.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
import pytest
from rest_framework import serializers

from core.times import (
    BoundedDateField,
    BoundedDateFilter,
    BoundedDateTimeField,
    BoundedIsoDateTimeFilter,
    TimeRejected,
    parse_client_time,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T09:30:00-08:00", dt.datetime(2026, 12, 1, 17, 30, tzinfo=UTC)),
        ("2026-12-01T17:30:00Z", dt.datetime(2026, 12, 1, 17, 30, tzinfo=UTC)),
        ("2026-12-01 17:30:00+00:00", dt.datetime(2026, 12, 1, 17, 30, tzinfo=UTC)),
        ("1900-01-01T00:00:00Z", dt.datetime(1900, 1, 1, tzinfo=UTC)),
        ("1899-12-31T19:00:00-05:00", dt.datetime(1900, 1, 1, tzinfo=UTC)),
        ("2100-01-01T00:00:00Z", dt.datetime(2100, 1, 1, tzinfo=UTC)),
        ("2100-01-01T05:00:00+05:00", dt.datetime(2100, 1, 1, tzinfo=UTC)),
        ("2026-01-12T10:06:48-15:30", dt.datetime(2026, 1, 13, 1, 36, 48, tzinfo=UTC)),
    ],
)
def test_a_time_with_an_offset_within_the_bounds_is_read_as_its_instant(text, expected):  # type: ignore[no-untyped-def]
    assert parse_client_time(text) == expected
    assert parse_client_time(text).utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026-12-01T09:30:00", "naive"),
        ("2026-12-01", "naive"),
        ("0001-01-01T00:00:00+14:00", "out_of_range"),
        ("9999-12-31T23:59:59-12:00", "out_of_range"),
        ("9999-12-31T23:59:59.999999Z", "out_of_range"),
        ("1899-12-31T23:59:59Z", "out_of_range"),
        ("1900-01-01T01:00:00+02:00", "out_of_range"),
        ("2100-01-01T00:00:00.000001Z", "out_of_range"),
        ("2099-12-31T20:00:00-05:00", "out_of_range"),
        ("2026-02-30T10:00:00Z", "invalid"),
        ("2026-12-01T10:00:00+99:99", "invalid"),
        ("yesterday", "invalid"),
        ("", "invalid"),
        ("2026-12-01T10:00:00Z" + " " * 100, "invalid"),
        (1733040000, "invalid"),
        (None, "invalid"),
        (["2026-12-01T10:00:00Z"], "invalid"),
        (dt.datetime(2026, 12, 1, 10), "naive"),
    ],
)
def test_a_time_without_an_offset_or_outside_the_bounds_is_rejected(text, code):  # type: ignore[no-untyped-def]
    with pytest.raises(TimeRejected) as rejected:
        parse_client_time(text)
    assert rejected.value.code == code


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1899-12-31", "2100-01-02", "2026-02-30", "x"])
def test_a_date_outside_the_bounds_or_malformed_is_a_field_error(value):  # type: ignore[no-untyped-def]
    field = BoundedDateField()
    with pytest.raises(serializers.ValidationError):
        field.run_validation(value)


def test_the_messages_say_what_to_send_and_echo_nothing():
    field = BoundedDateTimeField()
    for value, word in (("2026-03-01T10:00:00", "offset"), ("9999-01-01T00:00:00Z", "between")):
        with pytest.raises(serializers.ValidationError) as error:
            field.run_validation(value)
        message = str(error.value.detail[0])
        assert message.startswith("Send") and word in message
        assert value not in message


# --- the invariant ---------------------------------------------------------------------------------


def _plain_time_fields(serializer: Any, where: str) -> list[str]:
    """The writable time and date fields of `serializer` (nested ones too) that are not the
    bounded ones."""
    found: list[str] = []
    if isinstance(serializer, serializers.ListSerializer):
        return _plain_time_fields(serializer.child, where)
    for name, declared in serializer.fields.items():
        if declared.read_only:
            continue
        field = declared.child if isinstance(declared, serializers.ListSerializer) else declared
        if isinstance(field, serializers.ListField | serializers.DictField):
            field = field.child
        plain_time = isinstance(field, serializers.DateTimeField) and not isinstance(field, BoundedDateTimeField)
        plain_date = isinstance(field, serializers.DateField) and not isinstance(field, BoundedDateField)
        if isinstance(field, serializers.BaseSerializer):
            found += _plain_time_fields(field, f"{where}.{name}")
        elif plain_time or plain_date:
            found.append(f"{where}.{name}")
    return found


def _plain_time_filters(filterset_class: Any, where: str) -> list[str]:
    found = []
    for name, flt in filterset_class.base_filters.items():
        plain_time = isinstance(
            flt, django_filters.DateTimeFilter | django_filters.IsoDateTimeFilter
        ) and not isinstance(flt, BoundedIsoDateTimeFilter)
        plain_date = isinstance(flt, django_filters.DateFilter) and not isinstance(flt, BoundedDateFilter)
        if plain_time or plain_date:
            found.append(f"{where}?{name}")
    return found


def _as_serializer(value: Any) -> Any:
    if isinstance(value, type) and issubclass(value, serializers.BaseSerializer):
        return value()
    return value if isinstance(value, serializers.BaseSerializer) else None


@pytest.mark.django_db
def test_every_time_a_client_sends_goes_through_the_bounded_field():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.plumbing import ComponentRegistry
    from drf_spectacular.settings import spectacular_settings

    generator = SchemaGenerator()
    generator._initialise_endpoints()
    plain: list[str] = []
    checked = 0
    for path, path_regex, method, view in generator._get_paths_and_endpoints():
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, None)
        schema = view.schema
        schema.registry, schema.path, schema.path_regex, schema.path_prefix = ComponentRegistry(), path, path_regex, ""
        schema.method = method.upper()
        where = f"{method} {path}"
        candidates = [p for p in schema.get_override_parameters() if _as_serializer(p) is not None]
        if method in ("POST", "PUT", "PATCH"):
            candidates.append(schema.get_request_serializer())
        for candidate in candidates:
            serializer = _as_serializer(candidate)
            if serializer is not None:
                checked += 1
                plain += _plain_time_fields(serializer, where)
        for name in ("FilterSerializer", "QuerySerializer"):
            serializer = _as_serializer(getattr(type(view), name, None))
            if serializer is not None:
                checked += 1
                plain += _plain_time_fields(serializer, where)
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            checked += 1
            plain += _plain_time_filters(filterset_class, where)
    assert checked > 20  # the walk found the API
    assert plain == [], "use core.times.BoundedDateTimeField / BoundedDateField / Bounded*Filter"
