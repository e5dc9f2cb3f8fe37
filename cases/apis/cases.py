"""Cases (SPEC §2, §6): list, read and edit (If-Match), close, the case team, and the case's
timeline and change history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from accounts.http import AuthedRequest
from accounts.models import User
from audit.models import AuditEvent
from core.etags import etag_for

from ..models import Case, CaseTeamMember
from ..selectors import history as history_selectors
from ..selectors import parts as part_selectors
from ..selectors import visibility
from ..services import cases as case_services
from .base import CaseDataApi, CasePartListApi, PaginatedApi, _audit_read, _case_for

Action = AuditEvent.Action


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Case.Status.choices)
    court = django_filters.ChoiceFilter(choices=Case.Court.choices)
    csec_status = django_filters.ChoiceFilter(choices=Case.CsecStatus.choices)
    lead_agency = django_filters.CharFilter(field_name="lead_agency__code")
    youth = django_filters.NumberFilter(field_name="youth_id")
    number = django_filters.CharFilter(field_name="number")

    class Meta:
        model = Case
        fields: list[str] = []


class AlertSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    summary = serializers.CharField()


class CaseDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    youth = serializers.IntegerField(source="youth_id")
    lead_agency = serializers.CharField(source="lead_agency.code")
    status = serializers.CharField()
    close_reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    reopen_reason = serializers.CharField()
    reopened_at = serializers.DateTimeField(allow_null=True)
    court = serializers.CharField()
    csec_status = serializers.CharField()
    alerts = serializers.SerializerMethodField()
    referrals = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(AlertSummarySerializer(many=True))
    def get_alerts(self, obj: Case) -> list:
        alerts = AlertSummarySerializer(part_selectors.safety_alert_list(case=obj, active_only=True), many=True)
        # many=True makes a ListSerializer, whose data is a list; drf-stubs types it as the Serializer.
        return alerts.data  # type: ignore[return-value]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_referrals(self, obj: Case) -> list[int]:
        return part_selectors.case_referral_ids(case=obj)


class CaseListApi(PaginatedApi):
    audit_object_type = "case"
    filterset_class = CaseFilter

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        youth = serializers.IntegerField(source="youth_id")
        lead_agency = serializers.CharField(source="lead_agency.code")
        status = serializers.CharField()
        court = serializers.CharField()
        csec_status = serializers.CharField()
        created_at = serializers.DateTimeField()

    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return visibility.case_list_visible_to(user=self.request.user)

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        return self.list_response(self.filter_queryset(self.get_queryset()), object_type="case")


class CaseDetailApi(CaseDataApi):
    audit_object_type = "case"

    class InputSerializer(serializers.Serializer):
        court = serializers.ChoiceField(
            choices=[("", "None"), *Case.Court.choices], required=False, allow_blank=True, allow_null=True
        )
        csec_status = serializers.ChoiceField(choices=Case.CsecStatus.choices, required=False)

        def validate_court(self, value: str | None) -> str:
            return value or ""  # null and "" both clear the court

    @extend_schema(responses={200: CaseDetailSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        case, _ = _case_for(self)
        _audit_read(request, Action.VIEW, "case", case.pk, case.youth_id)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": etag_for(case)})

    @extend_schema(
        request=InputSerializer,
        responses={200: CaseDetailSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        case, _ = _case_for(self)
        data = self.validated(self.InputSerializer, partial=True)
        case_services.case_update(case=case, actor=request.user, data=data, if_match=request.headers.get("If-Match"))
        case, _ = _case_for(self)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": etag_for(case)})


class _CaseDecisionApi(CaseDataApi):
    """POST with a reason, answered with the case: close and reopen (one service each)."""

    audit_object_type = "case"

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    def decide(self, case: Case, actor: User, reason: str) -> Case:
        raise NotImplementedError

    def answer(self, request: AuthedRequest) -> Response:
        case, _ = _case_for(self)
        data = self.validated(self.InputSerializer)
        self.decide(case, request.user, data["reason"])
        case, _ = _case_for(self)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": etag_for(case)})


class CaseCloseApi(_CaseDecisionApi):
    def decide(self, case: Case, actor: User, reason: str) -> Case:
        return case_services.case_close(case=case, actor=actor, reason=reason)

    @extend_schema(request=_CaseDecisionApi.InputSerializer, responses={200: CaseDetailSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        return self.answer(request)


class CaseReopenApi(_CaseDecisionApi):
    def decide(self, case: Case, actor: User, reason: str) -> Case:
        return case_services.case_reopen(case=case, actor=actor, reason=reason)

    @extend_schema(request=_CaseDecisionApi.InputSerializer, responses={200: CaseDetailSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        return self.answer(request)


# team


class TeamMemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    name = serializers.SerializerMethodField()
    agency = serializers.CharField(source="user.agency.code", allow_null=True)
    role = serializers.CharField(source="case_role")
    added_by = serializers.IntegerField(source="added_by_id")
    added_at = serializers.DateTimeField()
    removed_at = serializers.DateTimeField(allow_null=True)

    def get_name(self, obj: CaseTeamMember) -> str:
        return obj.user.get_full_name()


class CaseTeamApi(CasePartListApi):
    audit_object_type = "case_team_member"
    part_model = CaseTeamMember
    serializer_class = TeamMemberOutputSerializer

    class InputSerializer(serializers.Serializer):
        user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
        role = serializers.CharField(max_length=50)

    def part_queryset(self) -> Any:
        return part_selectors.case_team_list(case=self.case)

    @extend_schema(responses={200: TeamMemberOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: TeamMemberOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        member = case_services.case_team_member_add(
            case=self.case, actor=request.user, user=data["user"], case_role=data["role"]
        )
        return self.created(member)


class CaseTeamMemberApi(CaseDataApi):
    audit_object_type = "case_team_member"

    @extend_schema(request=None, responses={200: TeamMemberOutputSerializer})
    def delete(self, request: AuthedRequest, pk: int, member_id: int) -> Response:
        case, _ = _case_for(self)
        member = part_selectors.case_team_list(case=case).filter(pk=member_id).first()
        if member is None:
            raise exceptions.NotFound()
        member = case_services.case_team_member_remove(member=member, actor=request.user)
        return Response(TeamMemberOutputSerializer(member).data)


# timeline and history


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()
    actor = serializers.IntegerField(allow_null=True)
    detail = serializers.DictField()


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(allow_null=True)
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()
    change = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    # The API field, not Serializer.fields: SerializerMetaclass pops declared fields off the
    # class, which drf-stubs cannot tell.
    fields = serializers.DictField()  # type: ignore[assignment]


class _CaseStreamApi(PaginatedApi):
    stream: Callable[..., list[dict[str, Any]]]

    def get_queryset(self) -> Any:
        return Case.objects.none()

    def stream_response(self) -> Response:
        case, _ = _case_for(self)
        items = type(self).stream(user=self.request.user, case=case)
        page = self.paginate_queryset(items)
        _audit_read(self.request, Action.VIEW, self.audit_object_type, case.pk, case.youth_id)
        return self.get_paginated_response(self.get_serializer_class()(page, many=True).data)


class CaseTimelineApi(_CaseStreamApi):
    """The case's events in time order (oldest first), filtered like every other read."""

    audit_object_type = "case_timeline"
    serializer_class = TimelineItemSerializer
    stream = staticmethod(history_selectors.case_timeline)

    @extend_schema(responses={200: TimelineItemSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.stream_response()


class CaseHistoryApi(_CaseStreamApi):
    """Every recorded change to the case and its parts, oldest first."""

    audit_object_type = "case_history"
    serializer_class = HistoryEntrySerializer
    stream = staticmethod(history_selectors.case_history)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.stream_response()
