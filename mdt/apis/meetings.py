"""Meetings: list and schedule, read and change one (PATCH), and the transition actions."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.etags import etag_for
from core.pagination import PageNumberPagination
from mdt import selectors
from mdt.apis.fields import NamedChoiceField, SaneDateTimeField
from mdt.apis.filters import MeetingFilter
from mdt.apis.reads import audit_reads, empty_list, paginate
from mdt.models import MDTTeam, Meeting
from mdt.services.meetings import (
    MAX_SERIES,
    meeting_cancel,
    meeting_change,
    meeting_finalize_minutes,
    meeting_hold,
    meeting_publish,
    meeting_schedule,
)

Action = AuditEvent.Action


class MeetingOutputSerializer(serializers.ModelSerializer):
    team = serializers.IntegerField(source="team_id")
    team_code = serializers.CharField(source="team.code")
    series = serializers.UUIDField(allow_null=True)
    status = NamedChoiceField(enum_name="MeetingStatusEnum", choices=Meeting.Status.choices, read_only=True)
    is_coordinator = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "team",
            "team_code",
            "starts_at",
            "ends_at",
            "location",
            "status",
            "series",
            "sequence",
            "published_at",
            "held_at",
            "minutes_finalized_at",
            "cancelled_at",
            "cancel_reason",
            "is_coordinator",
            "created_at",
            "updated_at",
        ]

    def get_is_coordinator(self, obj: Meeting) -> bool:
        return bool(self.context.get("flags", {}).get(obj.team_id))


class MeetingDetailOutputSerializer(MeetingOutputSerializer):
    class Meta(MeetingOutputSerializer.Meta):
        fields = [*MeetingOutputSerializer.Meta.fields, "minutes"]


def _meeting_payload(request: AuthedRequest, meeting: Meeting, *, detail: bool = True) -> dict[str, Any]:
    flags = selectors.membership_flags(user=request.user)
    serializer = MeetingDetailOutputSerializer if detail else MeetingOutputSerializer
    return serializer(meeting, context={"flags": flags}).data


class MeetingListCreateApi(generics.GenericAPIView):
    pagination_class = PageNumberPagination
    filterset_class = MeetingFilter

    class InputSerializer(serializers.Serializer):
        team = serializers.PrimaryKeyRelatedField(queryset=MDTTeam.objects.all())
        starts_at = SaneDateTimeField()
        ends_at = SaneDateTimeField()
        location = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        repeat_weekly = serializers.BooleanField(required=False, default=False)
        count = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SERIES, default=1)

    class CreateOutputSerializer(MeetingDetailOutputSerializer):
        series_meetings = serializers.SerializerMethodField()

        class Meta(MeetingDetailOutputSerializer.Meta):
            fields = [*MeetingDetailOutputSerializer.Meta.fields, "series_meetings"]

        def get_series_meetings(self, obj: Meeting) -> list[int]:
            return self.context["series_meetings"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Meeting.objects.none()
        return selectors.meeting_list_visible_to(user=self.request.user)

    @extend_schema(tags=["mdt"], responses={200: MeetingOutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        paginator, page = paginate(self, request, self.filter_queryset(self.get_queryset()))
        flags = selectors.membership_flags(user=request.user)
        audit_reads(
            request, [AuditEntry(Action.LIST, "mdt_meeting", m.pk) for m in page], empty=empty_list("mdt_meeting")
        )
        return paginator.get_paginated_response(MeetingOutputSerializer(page, many=True, context={"flags": flags}).data)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={201: CreateOutputSerializer})
    def post(self, request: AuthedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        meetings = meeting_schedule(
            team=v["team"],
            starts_at=v["starts_at"],
            ends_at=v["ends_at"],
            location=v["location"],
            repeat_weekly=v["repeat_weekly"],
            count=v["count"],
            actor=request.user,
        )
        context = {"flags": selectors.membership_flags(user=request.user), "series_meetings": [m.pk for m in meetings]}
        return Response(self.CreateOutputSerializer(meetings[0], context=context).data, status=status.HTTP_201_CREATED)


class MeetingDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        starts_at = SaneDateTimeField(required=False)
        ends_at = SaneDateTimeField(required=False)
        location = serializers.CharField(max_length=300, required=False, allow_blank=True)
        minutes = serializers.CharField(max_length=100_000, required=False, allow_blank=True, trim_whitespace=False)
        status = NamedChoiceField(
            enum_name="MeetingTransitionEnum",
            choices=[s for s in Meeting.Status.choices if s[0] != Meeting.Status.SCHEDULED],
            required=False,
        )
        cancel_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)

    @extend_schema(tags=["mdt"], responses={200: MeetingDetailOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        audit_reads(request, [AuditEntry(Action.VIEW, "mdt_meeting", meeting.pk)])
        return Response(_meeting_payload(request, meeting), headers={"ETag": etag_for(meeting)})

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: MeetingDetailOutputSerializer})
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        meeting = meeting_change(
            meeting=meeting,
            data=v,
            status=v.pop("status", None),
            cancel_reason=v.pop("cancel_reason", ""),
            actor=request.user,
            if_match=request.headers.get("If-Match"),
        )
        return Response(_meeting_payload(request, meeting), headers={"ETag": etag_for(meeting)})


class MeetingPublishApi(APIView):
    @extend_schema(tags=["mdt"], request=None, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        meeting = meeting_publish(meeting=meeting, actor=request.user)
        return Response(_meeting_payload(request, meeting))


class MeetingHoldApi(APIView):
    @extend_schema(tags=["mdt"], request=None, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        meeting = meeting_hold(meeting=meeting, actor=request.user)
        return Response(_meeting_payload(request, meeting))


class MeetingFinalizeMinutesApi(APIView):
    class InputSerializer(serializers.Serializer):
        minutes = serializers.CharField(max_length=100_000, required=False, allow_blank=True, trim_whitespace=False)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = meeting_finalize_minutes(
            meeting=meeting, minutes=data.validated_data.get("minutes"), actor=request.user
        )
        return Response(_meeting_payload(request, meeting))


class MeetingCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = meeting_cancel(meeting=meeting, reason=data.validated_data["reason"], actor=request.user)
        return Response(_meeting_payload(request, meeting))
