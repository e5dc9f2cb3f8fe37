"""The filters of the MDT lists (django-filter): `?team=&status=&series=&starts_after=&starts_before=`
on meetings, `?case=&meeting=&team=&assignee=&status=` on action items. An invalid value answers
400 in the one error shape (DjangoFilterBackend raises a ValidationError naming the parameter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from core.times import BoundedDateTimeFormField, BoundedIsoDateTimeFilter
from mdt.apis.fields import MAX_ID, SANE_YEAR_MESSAGE, is_sane_year
from mdt.models import ActionItem, Meeting


@extend_schema_field({"type": "integer", "maximum": MAX_ID, "minimum": 1, "format": "int64"})
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number from 1 to the largest database id (larger is a 400, never a
    database error)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class SaneDateTimeFormField(BoundedDateTimeFormField):
    """As the bodies' SaneDateTimeField: between the years 2000 and 2100."""

    default_error_messages = {**BoundedDateTimeFormField.default_error_messages, "out_of_range": SANE_YEAR_MESSAGE}

    def to_python(self, value: Any) -> Any:
        result = super().to_python(value)
        if result is not None and not is_sane_year(result):
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return result


class SaneIsoDateTimeFilter(BoundedIsoDateTimeFilter):
    field_class = SaneDateTimeFormField


@extend_schema_field({"$ref": "#/components/schemas/MeetingStatusEnum"})
class MeetingStatusFilter(django_filters.ChoiceFilter):
    """The schema names the same enum as the meetings' `status`."""


@extend_schema_field({"$ref": "#/components/schemas/ActionItemStatusEnum"})
class ActionItemStatusFilter(django_filters.ChoiceFilter):
    """The schema names the same enum as the action items' `status`."""


class MeetingFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id")
    status = MeetingStatusFilter(choices=Meeting.Status.choices)
    series = django_filters.UUIDFilter()
    starts_after = SaneIsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = SaneIsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Meeting
        fields: list[str] = []


class ActionItemFilter(django_filters.FilterSet):
    case = IdFilter(field_name="case_id")
    meeting = IdFilter(field_name="meeting_id")
    team = IdFilter(field_name="team_id")
    assignee = IdFilter(field_name="assignee_id")
    status = ActionItemStatusFilter(choices=ActionItem.Status.choices)

    class Meta:
        model = ActionItem
        fields: list[str] = []
