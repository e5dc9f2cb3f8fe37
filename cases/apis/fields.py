"""Serializer fields the case endpoints share: an agency by its code, and an optional bounded
clock time (SPEC §2 "Fact times")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Agency
from core.times import BoundedDateTimeField


class AgencyCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Agency.objects.filter(is_active=True))
        super().__init__(**kwargs)


def _clock_field() -> BoundedDateTimeField:
    return BoundedDateTimeField(required=False, allow_null=True)
