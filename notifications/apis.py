"""Thin API views: deadlines (list, waive), the inbox, preferences (SPEC §6)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry, audit_record_many
from core.errors import ApplicationError
from core.pagination import CursorPagination
from core.times import BoundedIsoDateTimeFilter

from . import selectors
from .models import Deadline, Notification
from .services.deadlines import deadline_waive
from .services.inbox import notification_mark_read, notification_preferences_update


class DeadlinePagination(CursorPagination):
    # Soonest first; unique with the id, as a cursor needs. DRF (and drf-stubs) take a str, list
    # or tuple here, but core.pagination.CursorPagination's `ordering = "-id"` narrows it to str.
    ordering = ("due_at", "id")  # type: ignore[assignment]


class NotificationPagination(CursorPagination):
    ordering = "-id"


# --- deadlines -----------------------------------------------------------------------------------


#: `status=outstanding`: open and missed, the deadlines still to be met (SPEC §3).
OUTSTANDING = "outstanding"


class DeadlineFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*Deadline.Status.choices, (OUTSTANDING, "Outstanding (open or missed)")],
        method="filter_status",
        help_text="A status, or `outstanding` for open and missed deadlines (most urgent first).",
    )
    rule = django_filters.CharFilter(field_name="rule__code")
    due_before = BoundedIsoDateTimeFilter(field_name="due_at", lookup_expr="lte")
    due_after = BoundedIsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    agency = django_filters.CharFilter(field_name="agency__code")
    case = django_filters.NumberFilter(field_name="case_id")
    referral = django_filters.NumberFilter(field_name="referral_id")

    class Meta:
        model = Deadline
        fields = ["status", "rule", "due_before", "due_after", "agency", "case", "referral"]

    def filter_status(self, queryset: Any, name: str, value: str) -> Any:
        if value == OUTSTANDING:
            # Soonest due first, as every list is: the longest overdue, then the next to fall due.
            return queryset.filter(status__in=Deadline.ACTIVE)
        return queryset.filter(status=value)


class DeadlineOutputSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.code")
    rule_name = serializers.CharField(source="rule.name")
    target_type = serializers.CharField(source="rule.target")
    target_id = serializers.IntegerField(source="object_id")
    case = serializers.SerializerMethodField()
    case_number = serializers.SerializerMethodField()
    agency = serializers.CharField(source="agency.code", allow_null=True, default=None)
    met_late = serializers.BooleanField(read_only=True, help_text="Met by a fact that happened after the due time.")
    recorded_late = serializers.BooleanField(
        read_only=True,
        help_text="Met, recorded late: the fact happened by the due time (met_at) but was recorded after it "
        "(recorded_at). The reminders sent meanwhile stand.",
    )
    outstanding = serializers.SerializerMethodField(help_text="Open or missed: still to be met.")
    superseded_stages = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Reminder stages a late sweep passed over (only the latest stage reached is sent): "
        "each with its time (`at`) and when the sweep recorded it (`recorded_at`).",
    )

    class Meta:
        model = Deadline
        fields = [
            "id",
            "rule",
            "rule_name",
            "status",
            "target_type",
            "target_id",
            "case",
            "case_number",
            "referral",
            "team_id",
            "assignee",
            "reference",
            "agency",
            "starts_at",
            "upcoming_at",
            "due_at",
            "overdue_at",
            "next_stage",
            "next_reminder_at",
            "met_at",
            "recorded_at",
            "met_late",
            "recorded_late",
            "missed_at",
            "waived_at",
            "waive_reason",
            "cancelled_at",
            "settled_at",
            "settle_reason",
            "superseded_by",
            "superseded_stages",
            "outstanding",
            "created_at",
        ]

    def get_outstanding(self, obj: Deadline) -> bool:
        return obj.status in Deadline.ACTIVE

    def _case(self, obj: Deadline) -> Any:
        if obj.case_id:
            return obj.case
        referral = obj.referral
        return referral.case if referral is not None and referral.case_id else None

    def get_case(self, obj: Deadline) -> int | None:
        case = self._case(obj)
        return case.pk if case is not None else None

    def get_case_number(self, obj: Deadline) -> str | None:
        case = self._case(obj)
        return case.number if case is not None else None


def _audit_shown(user: Any, deadlines: list[Deadline]) -> None:
    """One 'list' event per deadline shown (with its youth), in one INSERT; an empty page is
    recorded too (the read happened, whatever it found)."""
    entries = [AuditEntry(AuditEvent.Action.LIST, "deadline", d.pk, d.youth_id) for d in deadlines]
    with transaction.atomic():
        audit_record_many(
            actor=user,
            entries=entries or [AuditEntry(AuditEvent.Action.LIST, "deadline", "", None, detail={"count": 0})],
        )


@extend_schema(tags=["deadlines"])
class DeadlineListApi(ListAPIView):
    """The deadlines the user may see (their referrals and cases, the agendas they coordinate,
    the action items assigned to them), soonest due first."""

    serializer_class = DeadlineOutputSerializer
    filterset_class = DeadlineFilter
    pagination_class = DeadlinePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Deadline.objects.none()
        return selectors.deadline_list_visible_to(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        assert page is not None  # pagination_class is set
        _audit_shown(request.user, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DeadlineWaiveApi(APIView):
    audit_object_type = "deadline"

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(tags=["deadlines"], request=InputSerializer, responses={200: DeadlineOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        deadline = selectors.deadline_get_visible(user=request.user, pk=pk)
        if deadline is None:
            raise ApplicationError("Not found.", code="not_found")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deadline = deadline_waive(deadline=deadline, reason=data.validated_data["reason"], actor=request.user)
        return Response(DeadlineOutputSerializer(deadline).data)


# --- the inbox -----------------------------------------------------------------------------------


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    stage = django_filters.ChoiceFilter(choices=Notification.Stage.choices)
    rule = django_filters.CharFilter()

    class Meta:
        model = Notification
        fields = ["unread", "stage", "rule"]


class NotificationOutputSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="meeting_id", allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "deadline",
            "rule",
            "stage",
            "reason",
            "subject",
            "reference",
            "due_at",
            "link",
            "case",
            "referral",
            "meeting",
            "delivery_status",
            "sent_at",
            "created_at",
            "read_at",
        ]


_INBOX_FIELDS = NotificationOutputSerializer.Meta.fields
_INBOX_TIMES = ("due_at", "sent_at", "created_at", "read_at")
_INBOX_COLUMNS = {"deadline": "deadline_id", "case": "case_id", "referral": "referral_id", "meeting": "meeting_id"}
_as_time = serializers.DateTimeField().to_representation


def inbox_row(notification: Notification) -> dict[str, Any]:
    """NotificationOutputSerializer's output for one row, built directly: the inbox is what every
    client polls, and the serializer's per-field machinery cost more than the query (3.5 ms of a
    50-row page). The same keys and values — test_inbox_rows_match_the_serializer pins that."""
    row = {name: getattr(notification, _INBOX_COLUMNS.get(name, name)) for name in _INBOX_FIELDS}
    for name in _INBOX_TIMES:
        if row[name] is not None:
            row[name] = _as_time(row[name])
    return row


@extend_schema(tags=["notifications"])
class NotificationListApi(ListAPIView):
    """The user's own inbox, newest first (`?unread=true` for the unread ones)."""

    serializer_class = NotificationOutputSerializer
    filterset_class = NotificationFilter
    pagination_class = NotificationPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list_for(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # pagination_class is set
        # SPEC §5: audited like every other read — one `list` event for the page, with the ids
        # shown (an empty page is recorded too: the read happened).
        entries = [AuditEntry(AuditEvent.Action.LIST, "notification", n.pk) for n in page]
        with transaction.atomic():
            audit_record_many(
                actor=request.user,
                entries=entries or [AuditEntry(AuditEvent.Action.LIST, "notification", "", None, detail={"count": 0})],
            )
        return self.get_paginated_response([inbox_row(n) for n in page])


class NotificationUnreadCountApi(APIView):
    class OutputSerializer(serializers.Serializer):
        unread = serializers.IntegerField()

    @extend_schema(tags=["notifications"], responses={200: OutputSerializer})
    def get(self, request: AuthedRequest) -> Response:
        return Response({"unread": selectors.notification_unread_count(user=request.user)})


class NotificationReadApi(APIView):
    audit_object_type = "notification"

    @extend_schema(tags=["notifications"], request=None, responses={200: NotificationOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        notification = selectors.notification_get_for(user=request.user, pk=pk)
        if notification is None:
            raise ApplicationError("Not found.", code="not_found")
        notification = notification_mark_read(notification=notification, actor=request.user)
        return Response(NotificationOutputSerializer(notification).data)


# --- failed deliveries ---------------------------------------------------------------------------


class NotificationFailurePagination(CursorPagination):
    ordering = "-id"


class NotificationFailureOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    stage = serializers.CharField()
    reason = serializers.CharField()
    recipient = serializers.IntegerField(source="recipient_id")
    recipient_agency = serializers.CharField(source="recipient.agency.code", allow_null=True, default=None)
    attempts = serializers.IntegerField()
    error_class = serializers.CharField(allow_null=True, help_text="The error's class name only, never its message.")
    failed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    deadline = serializers.IntegerField(
        source="deadline_id",
        allow_null=True,
        help_text="Shown to a supervisor who may see the deadline; null otherwise.",
    )
    reference = serializers.CharField(allow_null=True, help_text="As `deadline`.")
    due_at = serializers.DateTimeField(allow_null=True, help_text="As `deadline`.")
    link = serializers.CharField(allow_null=True, help_text="As `deadline`.")


_FAILURE_CONTENT = ("deadline", "reference", "due_at", "link")


@extend_schema(tags=["notifications"])
class NotificationFailureListApi(ListAPIView):
    """Failed emails, so none fails silently (SPEC §3): a supervisor sees the failed escalations
    sent to the other supervisors of their agency, with what the email named when they may see
    the deadline; a system admin sees every failure, without its content. Anyone else: 403."""

    serializer_class = NotificationFailureOutputSerializer
    pagination_class = NotificationFailurePagination
    filter_backends: list[Any] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        failures = selectors.notification_failures_for(user=self.request.user)
        if failures is None:
            raise ApplicationError(
                "Failed emails are shown to supervisors (their agency's escalations) and system admins.",
                code="forbidden",
            )
        return failures

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None  # pagination_class is set
        shown = selectors.deadline_ids_visible_among(
            user=request.user, ids=[n.deadline_id for n in page if n.deadline_id]
        )
        rows = []
        for notification in page:
            row = dict(NotificationFailureOutputSerializer(notification).data)
            row["deadline"] = notification.deadline_id
            if notification.deadline_id not in shown:  # a system admin never sees case data
                row.update(dict.fromkeys(_FAILURE_CONTENT))
            rows.append(row)
        return self.get_paginated_response(rows)


# --- preferences ---------------------------------------------------------------------------------


class PreferenceSerializer(serializers.Serializer):
    rule = serializers.CharField(max_length=64)
    name = serializers.CharField(read_only=True)
    email = serializers.BooleanField()


class NotificationPreferencesApi(APIView):
    """Per reminder kind: also by email, or inbox only. The overdue escalation is always
    emailed and cannot be turned off."""

    class InputSerializer(serializers.Serializer):
        rules = PreferenceSerializer(many=True, allow_empty=True)

    OutputSerializer = inline_serializer(
        "NotificationPreferencesOutput",
        fields={
            "rules": PreferenceSerializer(many=True),
            "overdue_always_emailed": serializers.BooleanField(),
        },
    )

    def _payload(self, user: Any) -> dict[str, Any]:
        return {"rules": selectors.notification_preferences_for(user=user), "overdue_always_emailed": True}

    @extend_schema(tags=["notifications"], responses={200: OutputSerializer})
    def get(self, request: AuthedRequest) -> Response:
        return Response(self._payload(request.user))

    @extend_schema(tags=["notifications"], request=InputSerializer, responses={200: OutputSerializer})
    def put(self, request: AuthedRequest) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {row["rule"]: row["email"] for row in data.validated_data["rules"]}
        notification_preferences_update(user=request.user, changes=changes, actor=request.user)
        return Response(self._payload(request.user))
