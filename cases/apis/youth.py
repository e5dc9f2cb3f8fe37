"""Youth records (SPEC §2, §6): list and create (with the possible duplicates of the new
record), read and edit (If-Match), merge a duplicate record into another and undo the merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent
from core.errors import ApplicationError
from core.etags import etag_for
from core.times import BoundedDateField, BoundedDateFilter

from ..crypto import blind_index
from ..models import Youth
from ..selectors import visibility
from ..services import youth as youth_services
from ..throttles import duplicate_search_take
from .base import CaseDataApi, PaginatedApi, _audit_read
from .duplicates import PossibleDuplicateSerializer, _external_ids_held_elsewhere, _youth_duplicates
from .fields import AgencyCodeField

Action = AuditEvent.Action


class ExternalIdSerializer(serializers.Serializer):
    agency = AgencyCodeField()
    kind = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    value = serializers.CharField(max_length=100)


class ExternalIdOutputSerializer(serializers.Serializer):
    agency = serializers.CharField(source="agency.code")
    kind = serializers.CharField()
    value = serializers.CharField()


class ContactDetailSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            ("phone", "Phone"),
            ("email", "Email"),
            ("social_media", "Social media"),
            ("contact_person", "Who to call"),
            ("other", "Other"),
        ]
    )
    value = serializers.CharField(max_length=200)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


def _check_dob(value: Any) -> Any:
    if value is not None and (value > timezone.localdate() or value < dt.date(1900, 1, 1)):
        raise serializers.ValidationError("Not a plausible date of birth.")
    return value


class YouthInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = BoundedDateField(required=False, allow_null=True, validators=[_check_dob])
    gender_identity = serializers.ChoiceField(choices=Youth.GenderIdentity.choices, required=False)
    gender_identity_detail = serializers.CharField(max_length=100, required=False, allow_blank=True)
    pronouns = serializers.CharField(max_length=50, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=50, required=False, allow_blank=True)
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), max_length=20, required=False)
    external_ids = ExternalIdSerializer(many=True, required=False, max_length=20)
    contact_details = ContactDetailSerializer(
        many=True,
        required=False,
        max_length=20,
        help_text="Recorded only by the lead agency's case team (or the holding agency when there is no open case).",
    )


class YouthDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    aliases = serializers.ListField(child=serializers.CharField())
    gender_identity = serializers.CharField()
    gender_identity_detail = serializers.CharField()
    pronouns = serializers.CharField()
    preferred_language = serializers.CharField()
    external_ids = ExternalIdOutputSerializer(many=True, source="external_ids.all")
    holding_agency = serializers.CharField(source="holding_agency.code")
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    contact_details = serializers.SerializerMethodField(
        help_text="Phone numbers, handles, who to call: only for the lead agency's case team of the open case "
        "(the holding agency when there is none); null otherwise."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_contact_details(self, obj: Youth) -> list[dict[str, str]] | None:
        request = self.context.get("request")
        if request is None or not visibility.youth_contact_details_visible(user=request.user, youth=obj):
            return None
        return list(obj.contact_details or [])


class YouthFilter(django_filters.FilterSet):
    """Equality on the encrypted fields goes through their blind indexes only."""

    first_name = django_filters.CharFilter(method="filter_bidx", field_name="first_name_bidx")
    last_name = django_filters.CharFilter(method="filter_bidx", field_name="last_name_bidx")
    date_of_birth = BoundedDateFilter(method="filter_bidx", field_name="date_of_birth_bidx")
    include_merged = django_filters.BooleanFilter(method="filter_merged")

    class Meta:
        model = Youth
        fields: list[str] = []

    def filter_bidx(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.filter(**{name: blind_index(value)}) if value not in (None, "") else queryset

    def filter_merged(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset

    @property
    def qs(self) -> Any:
        qs = super().qs
        if not self.form.cleaned_data.get("include_merged"):
            qs = qs.filter(merged_into__isnull=True)
        return qs


class YouthListCreateApi(PaginatedApi):
    audit_object_type = "youth"
    filterset_class = YouthFilter

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)

    class CreateOutputSerializer(YouthDetailSerializer):
        possible_duplicates = PossibleDuplicateSerializer(many=True)

    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return visibility.youth_list_visible_to(user=self.request.user).only(
            "id", "first_name", "last_name", "merged_into_id"
        )

    def youth_of(self, row: Any) -> int | None:
        return row.pk

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.list_response(self.filter_queryset(self.get_queryset()), object_type="youth")

    @extend_schema(request=YouthInputSerializer, responses={201: CreateOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.validated(YouthInputSerializer)
        # One search of the budget for the create (its duplicate report and its external ids).
        budget = duplicate_search_take(user=request.user)
        data, held_elsewhere = _external_ids_held_elsewhere(request, data, budget)
        youth = youth_services.youth_create(actor=request.user, **data)
        youth = visibility.youth_get_visible(user=request.user, pk=youth.pk)
        body = dict(YouthDetailSerializer(youth, context={"request": request}).data)
        body["possible_duplicates"] = _youth_duplicates(
            request, youth, via="youth_create", budget=budget, held_elsewhere=held_elsewhere
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"ETag": etag_for(youth)})


class YouthDetailApi(CaseDataApi):
    audit_object_type = "youth"

    class InputSerializer(YouthInputSerializer):
        pass

    @extend_schema(responses={200: YouthDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        youth = visibility.youth_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "youth", youth.pk, youth.pk)
        return Response(
            YouthDetailSerializer(youth, context={"request": request}).data, headers={"ETag": etag_for(youth)}
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: YouthDetailSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        youth = visibility.youth_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer, partial=True)
        # External ids sent on an edit are looked up like a create's (SPEC §2): one search of the
        # budget, and a number a hidden record holds answers as a hidden duplicate, never "in
        # use" — or patching one record would test agency numbers without a limit.
        held_elsewhere: list[int] = []
        budget = None
        if data.get("external_ids"):
            budget = duplicate_search_take(user=request.user)
            data, held_elsewhere = _external_ids_held_elsewhere(request, data, budget)
        youth_services.youth_update(
            youth=youth, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        youth = visibility.youth_get_visible(user=request.user, pk=pk)
        body = dict(YouthDetailSerializer(youth, context={"request": request}).data)
        if budget is not None:
            body["possible_duplicates"] = _youth_duplicates(
                request, youth, via="youth_update", budget=budget, held_elsewhere=held_elsewhere
            )
        return Response(body, headers={"ETag": etag_for(youth)})


class YouthMergeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField(source="source_id")
    target = serializers.IntegerField(source="target_id")
    merged_by = serializers.IntegerField(source="merged_by_id")
    merged_at = serializers.DateTimeField()
    unmerged_at = serializers.DateTimeField(allow_null=True)


class YouthMergeApi(CaseDataApi):
    """Merge this (duplicate) youth record into `into` (supervisors; reversible)."""

    audit_object_type = "youth"

    class InputSerializer(serializers.Serializer):
        into = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: YouthMergeOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        source = visibility.youth_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer)
        target = visibility.youth_list_visible_to(user=request.user).filter(pk=data["into"]).first()
        if target is None:
            raise ApplicationError("Unknown youth.", fields={"into": ["Not found."]})
        merge = youth_services.youth_merge(source=source, target=target, actor=request.user)
        return Response(YouthMergeOutputSerializer(merge).data)


class YouthUnmergeApi(CaseDataApi):
    audit_object_type = "youth"

    @extend_schema(request=None, responses={200: YouthMergeOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        # Not looked up here: a merged record may be reached through the record it was merged
        # into, and the service decides (404 / 403) with the same selectors.
        merge = youth_services.youth_unmerge(source=Youth(pk=pk), actor=request.user)
        return Response(YouthMergeOutputSerializer(merge).data)
