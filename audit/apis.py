from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from accounts.permissions import Role, has_role
from config.api import CursorPagination

from .models import AuditEvent
from .selectors import audit_event_list_visible_to


class AuditEventFilter(django_filters.FilterSet):
    youth = django_filters.NumberFilter(field_name="youth_id")
    actor = django_filters.NumberFilter(field_name="actor_id")
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    action = django_filters.CharFilter()

    class Meta:
        model = AuditEvent
        fields = ["youth", "actor", "object_type", "object_id", "action"]


class AuditEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id", "occurred_at", "actor_id", "actor_agency", "action", "object_type", "object_id",
            "youth_id", "outcome", "request_id", "client_ip", "detail", "seq", "hash",
        ]


@extend_schema(tags=["audit"])
class AuditEventListApi(ListAPIView):
    """The audit log, newest first (auditors only). Reading it is itself audited."""

    permission_classes = [has_role(Role.AUDITOR)]
    serializer_class = AuditEventOutputSerializer
    filterset_class = AuditEventFilter
    pagination_class = CursorPagination

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return audit_event_list_visible_to(user=self.request.user)

    def list(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        from django.db import transaction

        from .services import audit_record

        response = super().list(request, *args, **kwargs)
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.LIST,
                object_type="audit_event",
                detail={k: v for k, v in request.query_params.items() if k in AuditEventFilter.Meta.fields},
            )
        return response
