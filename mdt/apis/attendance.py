"""Who attended a meeting: read and record it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import AgencyField
from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.pagination import PageNumberPagination
from mdt import selectors
from mdt.apis.fields import active_users
from mdt.apis.reads import audit_reads, empty_list, paginate
from mdt.models import Attendance
from mdt.services.attendance import attendance_record

Action = AuditEvent.Action


class AttendanceOutputSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="meeting_id")
    user = serializers.IntegerField(source="user_id")
    name = serializers.SerializerMethodField()
    agency = serializers.CharField(source="agency.code")

    class Meta:
        model = Attendance
        fields = ["id", "meeting", "user", "name", "agency", "present", "recorded_at"]

    def get_name(self, obj: Attendance) -> str:
        return obj.user.get_full_name()


class MeetingAttendanceApi(APIView):
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        user = serializers.PrimaryKeyRelatedField(queryset=active_users())
        present = serializers.BooleanField()
        agency = AgencyField(required=False, allow_null=True)

    @extend_schema(tags=["mdt"], responses={200: AttendanceOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        paginator, page = paginate(self, request, selectors.meeting_attendance(meeting=meeting))
        audit_reads(
            request,
            [AuditEntry(Action.LIST, "mdt_attendance", a.pk, detail={"meeting": meeting.pk}) for a in page],
            empty=empty_list("mdt_attendance", meeting=meeting.pk),
        )
        return paginator.get_paginated_response(AttendanceOutputSerializer(page, many=True).data)

    @extend_schema(
        tags=["mdt"],
        request=InputSerializer,
        responses={201: AttendanceOutputSerializer, 200: AttendanceOutputSerializer},
    )
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record, created = attendance_record(
            meeting=meeting, user=v["user"], present=v["present"], agency=v.get("agency"), actor=request.user
        )
        return Response(
            AttendanceOutputSerializer(record).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
