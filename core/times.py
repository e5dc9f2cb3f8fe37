"""Times and dates a client sends (SPEC §6): ISO 8601 with an offset, between 1900 and 2100.
One parser for bodies and query filters alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

# --- time input -----------------------------------------------------------------------------------
#
# SPEC §6: times are ISO 8601 with an offset (a time without one would be guessed), and every time
# or date a client sends lies between 1900 and 2100. One parser for bodies and query filters alike;
# the bounds are checked before any timezone conversion or clock arithmetic, so a year-1 time
# with a +14:00 offset, or the last second of year 9999, is a 400 and never an OverflowError (and
# PostgreSQL, which refuses offsets beyond ±15:59, only ever sees UTC).

EARLIEST_TIME = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
EARLIEST_DATE, LATEST_DATE = EARLIEST_TIME.date(), LATEST_TIME.date()
#: Longer than any ISO 8601 time (with microseconds and offset): refused without parsing.
_MAX_TIME_CHARS = 64

TIME_MESSAGES = {
    "invalid": "Send an ISO 8601 time with its offset, e.g. 2026-12-01T09:30:00-08:00.",
    "naive": "Send the time with its offset, e.g. 2026-12-01T09:30:00-08:00 or …T17:30:00Z: "
    "a time without one would be guessed.",
    "out_of_range": "Send a time between 1900-01-01T00:00:00Z and 2100-01-01T00:00:00Z.",
}
DATE_MESSAGES = {
    "invalid": "Send a date as YYYY-MM-DD, e.g. 2010-03-14.",
    "out_of_range": "Send a date between 1900-01-01 and 2100-01-01.",
}


class TimeRejected(ValueError):
    """A client's time or date refused; `code` is a key of TIME_MESSAGES / DATE_MESSAGES."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_client_time(value: Any) -> dt.datetime:
    """A time a client sent, as an aware datetime in UTC, or TimeRejected.

    Accepts an ISO 8601 string with an offset (or an aware datetime, for callers that parsed
    already). The wall-clock year is checked before the conversion to UTC (which is what
    overflows near year 1 and year 9999), the UTC instant after it."""
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, str) and len(value) <= _MAX_TIME_CHARS:
        try:
            parsed = parse_datetime(value.strip())
        except (ValueError, OverflowError):  # a well-formed but impossible time or offset
            parsed = None
    else:
        parsed = None
    if parsed is None:
        raise TimeRejected("invalid")
    try:
        offset = parsed.utcoffset()
    except (ValueError, OverflowError):
        raise TimeRejected("invalid") from None
    if offset is None:
        raise TimeRejected("naive")
    # Within a year of the bounds the conversion cannot overflow (offsets are under a day).
    if not EARLIEST_TIME.year - 1 <= parsed.year <= LATEST_TIME.year:
        raise TimeRejected("out_of_range")
    utc = parsed.astimezone(dt.UTC)
    if not EARLIEST_TIME <= utc <= LATEST_TIME:
        raise TimeRejected("out_of_range")
    return utc


def check_client_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TimeRejected("invalid")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise TimeRejected("out_of_range")
    return value


class BoundedDateTimeField(serializers.DateTimeField):
    """The one field for a time a client sends (bodies and query serializers): ISO 8601 with
    an offset, between 1900 and 2100 (SPEC §6). The value is given in the current timezone, as
    DRF's own field gives it (so wall-clock arithmetic, e.g. weekly series, keeps working)."""

    default_error_messages = dict(TIME_MESSAGES)

    def to_internal_value(self, value: Any) -> dt.datetime:
        try:
            return timezone.localtime(parse_client_time(value))
        except TimeRejected as rejected:
            self.fail(rejected.code)


class BoundedDateField(serializers.DateField):
    """The one field for a date a client sends: YYYY-MM-DD between 1900 and 2100."""

    default_error_messages = dict(DATE_MESSAGES)

    def to_internal_value(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            self.fail("invalid")
        if isinstance(value, str):
            try:
                parsed = parse_date(value.strip()) if len(value) <= _MAX_TIME_CHARS else None
            except ValueError:  # e.g. 2026-02-30
                parsed = None
            if parsed is None:
                self.fail("invalid")
            value = parsed
        try:
            return check_client_date(value)
        except TimeRejected as rejected:
            self.fail(rejected.code)


class BoundedDateTimeFormField(forms.DateTimeField):
    """BoundedDateTimeField for django-filter (query filters are Django form fields)."""

    default_error_messages = dict(TIME_MESSAGES)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        try:
            return timezone.localtime(parse_client_time(value))
        except TimeRejected as rejected:
            raise forms.ValidationError(self.error_messages[rejected.code], code=rejected.code) from None


class BoundedDateFormField(forms.DateField):
    default_error_messages = dict(DATE_MESSAGES)

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        try:
            parsed = parse_date(str(value).strip()) if len(str(value)) <= _MAX_TIME_CHARS else None
        except ValueError:
            parsed = None
        try:
            return check_client_date(parsed)  # type: ignore[arg-type]
        except TimeRejected as rejected:
            raise forms.ValidationError(self.error_messages[rejected.code], code=rejected.code) from None


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """A time filter (`?due_before=…`) with BoundedDateTimeField's rules: 400, never a 500."""

    field_class = BoundedDateTimeFormField


class BoundedDateFilter(django_filters.DateFilter):
    """A date filter (`?date_of_birth=…`) between 1900 and 2100."""

    field_class = BoundedDateFormField
