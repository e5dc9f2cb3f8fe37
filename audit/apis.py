from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import CursorPagination
from core.permissions import Role, has_role

from .models import AuditEvent
from .selectors import audit_event_list_visible_to, audit_verify_job_visible_to
from .services.verify import audit_verify_request


class AuditEventFilter(django_filters.FilterSet):
    #: The events about this child: those naming it, and the list pages that showed it.
    youth = django_filters.NumberFilter(method="filter_youth")
    actor = django_filters.NumberFilter(field_name="actor_id")
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    action = django_filters.CharFilter()

    class Meta:
        model = AuditEvent
        fields = ["youth", "actor", "object_type", "object_id", "action"]

    def filter_youth(self, queryset: QuerySet[AuditEvent], name: str, value: int) -> QuerySet[AuditEvent]:
        # Two indexed conditions (the btree on youth_id, the GIN on youth_ids on PostgreSQL).
        return queryset.filter(Q(youth_id=value) | Q(youth_ids__has=value))


class AuditEventOutputSerializer(serializers.ModelSerializer):
    object_ids = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="A list page's event: the ids of the objects shown.",
    )
    youth_ids = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text="A list page's event: the youth they concern."
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_id",
            "actor_agency",
            "action",
            "object_type",
            "object_id",
            "youth_id",
            "object_ids",
            "youth_ids",
            "outcome",
            "request_id",
            "client_ip",
            "detail",
            "seq",
            "hash",
        ]


@extend_schema(tags=["audit"])
class AuditEventListApi(ListAPIView):
    """The audit log, newest first (auditors only). Reading it is itself audited."""

    permission_classes = [has_role(Role.AUDITOR)]
    serializer_class = AuditEventOutputSerializer
    filterset_class = AuditEventFilter
    pagination_class = CursorPagination

    def get_queryset(self):
        return audit_event_list_visible_to(user=self.request.user)

    def list(self, request, *args, **kwargs):
        from django.db import transaction

        from .services.record import audit_record

        response = super().list(request, *args, **kwargs)
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.LIST,
                object_type="audit_event",
                detail=_filters_used(request),
            )
        return response


def _filters_used(request: Request) -> dict[str, object]:
    """The filters of a read of the log: ids as ids; the names of the others (their values are
    the caller's text)."""
    detail: dict[str, object] = {}
    names = []
    for key, value in request.query_params.items():
        if key not in AuditEventFilter.Meta.fields:
            continue
        if (
            key in {"youth", "actor"}
            and isinstance(value, str)
            and value.isascii()
            and value.isdigit()
            and len(value) < 19
        ):
            detail[key] = int(value)
        else:
            names.append(key)
    if names:
        detail["fields"] = sorted(names)
    return detail


class FindingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["edited_event", "deleted_event", "rewritten_suffix", "cut_tail", "forged_insert", "forged_checkpoint"]
    )
    event_id = serializers.IntegerField(allow_null=True)
    seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class VerifyResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="Sealed events whose MAC and chain links were recomputed.")
    unsealed = serializers.IntegerField(help_text="Events awaiting the seal (their MACs were checked).")
    checkpoints = serializers.IntegerField(help_text="Signed checkpoints the chain was compared with.")
    broken_event_id = serializers.IntegerField(allow_null=True, help_text="The first broken event, if any.")
    broken_seq = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField(help_text="The kind of the first finding; empty when ok.")
    reason = serializers.CharField()
    findings = FindingSerializer(many=True)


class VerifyJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "running", "done", "failed"])
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    result = VerifyResultSerializer(allow_null=True)


@extend_schema(tags=["audit"])
class AuditVerifyApi(APIView):
    """Run the integrity check of the audit log (auditors only)."""

    permission_classes = [has_role(Role.AUDITOR)]

    @extend_schema(
        summary="Verify the audit log",
        description=(
            "Recomputes every event's MAC, the hash chain and the signed checkpoints, and names the first "
            "broken event and the kind of each tampering found (an edited event, a deleted event, a rewritten "
            "suffix, a cut tail, a forged insert). A small log is verified at once (200, the result); a large "
            "one answers 202 with a job to poll at `GET /api/v1/audit-events/verify/{id}/`."
        ),
        request=None,
        responses={200: VerifyResultSerializer, 202: VerifyJobSerializer},
    )
    def post(self, request: Request) -> Response:
        answer = audit_verify_request(actor=request.user)
        if answer.job is not None:
            return Response(_job_data(answer.job), status=status.HTTP_202_ACCEPTED)
        assert answer.result is not None
        return Response(VerifyResultSerializer(answer.result.as_dict()).data)


@extend_schema(tags=["audit"])
class AuditVerifyJobApi(APIView):
    """A verification job's state and, once done, its result (auditors only)."""

    permission_classes = [has_role(Role.AUDITOR)]

    @extend_schema(
        summary="Poll a verification job",
        description="The state of a verification of a large log; `result` is set once `status` is `done`.",
        responses={200: VerifyJobSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        from django.shortcuts import get_object_or_404

        job = get_object_or_404(audit_verify_job_visible_to(user=request.user), pk=pk)
        return Response(_job_data(job))


def _job_data(job) -> dict[str, object]:
    return VerifyJobSerializer(
        {
            "id": job.pk,
            "status": job.status,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
            "result": job.result,
        }
    ).data
