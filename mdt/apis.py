"""Thin API views for court MDT teams, meetings, agendas, exports and action items (SPEC §4, §6).

Every view reads through mdt.selectors (visibility: 404) and writes through mdt.services (role,
status and input rules: 403, 409, 400). Every read of MDT data is audited here — one INSERT per
request, one event per object shown, with the youth id of every case involved.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from accounts.apis import AgencyField
from accounts.models import User
from audit.models import AuditEvent
from audit.services import AuditEntry, audit_record, audit_record_many
from core.errors import ApplicationError
from core.etags import etag_for
from core.pagination import PageNumberPagination
from core.permissions import is_system_admin
from core.times import BoundedDateTimeField

from . import exports, selectors, services
from .models import ActionItem, AgendaItem, Attendance, MDTTeam, Meeting, ReviewVersion, TeamMembership
from .permissions import may_sit_on_team

Action = AuditEvent.Action


def _audit_reads(request: Request, entries: list[AuditEntry], *, empty: AuditEntry | None = None) -> None:
    """One INSERT: an event per object shown, or — for an empty page — one event for the read."""
    audit_record_many(actor=request.user, entries=entries or ([empty] if empty else []))


def _empty_list(object_type: str, **detail: Any) -> AuditEntry:
    return AuditEntry(Action.LIST, object_type, "", detail={"results": 0, **detail})


def _paginate(view: APIView, request: Request, queryset: Any) -> tuple[PageNumberPagination, list[Any]]:
    paginator = PageNumberPagination()  # the views also name it, so the schema shows the envelope
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator, list(page or [])


def _active_users() -> Any:
    return User.objects.filter(is_active=True).select_related("agency")


#: The largest id a database integer column holds: larger input is a 400, not a database error.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    """An object id in a body or a filter."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class SaneDateTimeField(BoundedDateTimeField):
    """ISO 8601 with offset, between the years 2000 and 2100: a mistyped year is a 400, never an
    overflow in the clock arithmetic (weekly series, deadlines)."""

    default_error_messages = {"out_of_range": "Must be between the years 2000 and 2100."}

    def to_internal_value(self, value: Any) -> Any:
        result = super().to_internal_value(value)
        if not 2000 <= result.year <= 2100:
            self.fail("out_of_range")
        return result


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose enum gets its own schema component name (`MeetingStatusEnum`,
    `ActionItemStatusEnum`): several objects have a `status` with different choices, and
    drf-spectacular's by-field-name enum naming would collide."""

    def __init__(self, *, enum_name: str, **kwargs: Any):
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):  # type: ignore[no-untyped-def]
        from drf_spectacular.plumbing import ResolvedComponent

        component = ResolvedComponent(
            name=self.target.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=self.target.enum_name,
            schema={"type": "string", "enum": [str(key) for key in self.target.choices]},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# --- renderers for the exports --------------------------------------------------------------------


class PDFRenderer(BaseRenderer):
    """`?format=pdf` (DRF's format override) or `Accept: application/pdf` picks this; the view
    hands it the finished PDF bytes."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # type: ignore[no-untyped-def]
        return data


class ICSRenderer(BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # type: ignore[no-untyped-def]
        return data


class FirstRendererNegotiation(BaseContentNegotiation):
    """A calendar is a calendar whatever the client's Accept header says."""

    def select_parser(self, request, parsers):  # type: ignore[no-untyped-def]
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        return renderers[0], renderers[0].media_type


class ErrorsAsJsonMixin:
    """Errors of an export view answer JSON (never a PDF or calendar body)."""

    def finalize_response(self, request, response, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(response, Response) and (response.exception or response.status_code >= 400):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


# --- teams ----------------------------------------------------------------------------------------


class TeamListApi(APIView):
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer):
        is_member = serializers.SerializerMethodField()
        is_coordinator = serializers.SerializerMethodField()

        class Meta:
            model = MDTTeam
            fields = ["id", "code", "name", "court", "court_location", "is_member", "is_coordinator"]

        def get_is_member(self, obj: MDTTeam) -> bool:
            return obj.pk in self.context["flags"]

        def get_is_coordinator(self, obj: MDTTeam) -> bool:
            return bool(self.context["flags"].get(obj.pk))

    @extend_schema(tags=["mdt"], responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator, page = _paginate(self, request, selectors.team_list(user=request.user))
        flags = selectors.membership_flags(user=request.user)
        _audit_reads(
            request, [AuditEntry(Action.LIST, "mdt_team", team.pk) for team in page], empty=_empty_list("mdt_team")
        )
        data = self.OutputSerializer(page, many=True, context={"flags": flags}).data
        return paginator.get_paginated_response(data)


class MembershipOutputSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()
    agency = serializers.CharField(source="user.agency_code", allow_null=True)
    role = serializers.CharField(source="user.effective_role")
    is_active = serializers.BooleanField(source="user.is_active")

    class Meta:
        model = TeamMembership
        fields = ["id", "user", "username", "name", "agency", "role", "is_active", "is_coordinator", "added_at"]

    def get_name(self, obj: TeamMembership) -> str:
        return obj.user.get_full_name()


class TeamMemberListCreateApi(APIView):
    """The team's roster: read by a system admin and the team's members; changed by a system
    admin only."""

    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        user = serializers.PrimaryKeyRelatedField(queryset=_active_users())
        is_coordinator = serializers.BooleanField(required=False, default=False)

    @extend_schema(tags=["mdt"], responses={200: MembershipOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        paginator, page = _paginate(self, request, selectors.team_membership_list(user=request.user, team=team))
        _audit_reads(
            request,
            [AuditEntry(Action.LIST, "mdt_team_membership", m.pk, detail={"team": team.code}) for m in page],
            empty=_empty_list("mdt_team_membership", team=team.code),
        )
        return paginator.get_paginated_response(MembershipOutputSerializer(page, many=True).data)

    @extend_schema(
        tags=["mdt"],
        request=InputSerializer,
        responses={201: MembershipOutputSerializer, 200: MembershipOutputSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        if not is_system_admin(request.user):
            raise ApplicationError("Only a system admin manages team membership.", code="forbidden")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership, created = services.team_member_add(
            team=team,
            user=data.validated_data["user"],
            is_coordinator=data.validated_data["is_coordinator"],
            actor=request.user,
        )
        return Response(
            MembershipOutputSerializer(membership).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class TeamMemberDeleteApi(APIView):
    @extend_schema(tags=["mdt"], request=None, responses={204: None})
    def delete(self, request: Request, pk: int, user_id: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        services.team_member_remove(team=team, user_id=user_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- meetings -------------------------------------------------------------------------------------


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


def _meeting_payload(request: Request, meeting: Meeting, *, detail: bool = True) -> dict[str, Any]:
    flags = selectors.membership_flags(user=request.user)
    serializer = MeetingDetailOutputSerializer if detail else MeetingOutputSerializer
    return serializer(meeting, context={"flags": flags}).data


class MeetingListCreateApi(APIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        team = IdField(required=False)
        status = NamedChoiceField(enum_name="MeetingStatusEnum", choices=Meeting.Status.choices, required=False)
        series = serializers.UUIDField(required=False)
        starts_after = SaneDateTimeField(required=False)
        starts_before = SaneDateTimeField(required=False)

    class InputSerializer(serializers.Serializer):
        team = serializers.PrimaryKeyRelatedField(queryset=MDTTeam.objects.all())
        starts_at = SaneDateTimeField()
        ends_at = SaneDateTimeField()
        location = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        repeat_weekly = serializers.BooleanField(required=False, default=False)
        count = serializers.IntegerField(required=False, min_value=1, max_value=services.MAX_SERIES, default=1)

    class CreateOutputSerializer(MeetingDetailOutputSerializer):
        series_meetings = serializers.SerializerMethodField()

        class Meta(MeetingDetailOutputSerializer.Meta):
            fields = [*MeetingDetailOutputSerializer.Meta.fields, "series_meetings"]

        def get_series_meetings(self, obj: Meeting) -> list[int]:
            return self.context["series_meetings"]

    @extend_schema(tags=["mdt"], parameters=[FilterSerializer], responses={200: MeetingOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = selectors.meeting_list_visible_to(user=request.user)
        if "team" in f:
            qs = qs.filter(team_id=f["team"])
        if "status" in f:
            qs = qs.filter(status=f["status"])
        if "series" in f:
            qs = qs.filter(series=f["series"])
        if "starts_after" in f:
            qs = qs.filter(starts_at__gte=f["starts_after"])
        if "starts_before" in f:
            qs = qs.filter(starts_at__lt=f["starts_before"])
        paginator, page = _paginate(self, request, qs)
        flags = selectors.membership_flags(user=request.user)
        _audit_reads(
            request, [AuditEntry(Action.LIST, "mdt_meeting", m.pk) for m in page], empty=_empty_list("mdt_meeting")
        )
        return paginator.get_paginated_response(MeetingOutputSerializer(page, many=True, context={"flags": flags}).data)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={201: CreateOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        meetings = services.meeting_schedule(
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
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        _audit_reads(request, [AuditEntry(Action.VIEW, "mdt_meeting", meeting.pk)])
        return Response(_meeting_payload(request, meeting), headers={"ETag": etag_for(meeting)})

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: MeetingDetailOutputSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        meeting = services.meeting_change(
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
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        meeting = services.meeting_publish(meeting=meeting, actor=request.user)
        return Response(_meeting_payload(request, meeting))


class MeetingHoldApi(APIView):
    @extend_schema(tags=["mdt"], request=None, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        meeting = services.meeting_hold(meeting=meeting, actor=request.user)
        return Response(_meeting_payload(request, meeting))


class MeetingFinalizeMinutesApi(APIView):
    class InputSerializer(serializers.Serializer):
        minutes = serializers.CharField(max_length=100_000, required=False, allow_blank=True, trim_whitespace=False)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.meeting_finalize_minutes(
            meeting=meeting, minutes=data.validated_data.get("minutes"), actor=request.user
        )
        return Response(_meeting_payload(request, meeting))


class MeetingCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: MeetingDetailOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.meeting_cancel(meeting=meeting, reason=data.validated_data["reason"], actor=request.user)
        return Response(_meeting_payload(request, meeting))


# --- agenda items ---------------------------------------------------------------------------------


class ReviewVersionOutputSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.IntegerField(source="reviewed_by_id")

    class Meta:
        model = ReviewVersion
        fields = ["version", "summary", "decisions", "reviewed_by", "reviewed_at"]


class AgendaItemOutputSerializer(serializers.ModelSerializer):
    """`review_summary`, `review_decisions`, `reviewed_by` and `reviewed_at` are the latest
    review outcome; `review_versions` lists every version recorded, newest first."""

    meeting = serializers.IntegerField(source="meeting_id")
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    presenting_agency = serializers.CharField(source="presenting_agency.code", allow_null=True, default=None)
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    reason = NamedChoiceField(enum_name="AgendaReasonEnum", choices=AgendaItem.Reason.choices, read_only=True)
    review_versions = ReviewVersionOutputSerializer(many=True, read_only=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "meeting",
            "position",
            "case",
            "case_number",
            "reason",
            "presenting_agency",
            "minutes_allotted",
            "review_summary",
            "review_decisions",
            "reviewed_by",
            "reviewed_at",
            "review_versions",
        ]


def _agenda_entries(action: str, items: list[AgendaItem], **detail: Any) -> list[AuditEntry]:
    return [
        AuditEntry(
            action,
            "mdt_agenda_item",
            item.pk,
            youth_id=item.case.youth_id,
            detail={"meeting": item.meeting_id, **detail},
        )
        for item in items
    ]


class MeetingItemListCreateApi(APIView):
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer):
        case = IdField()
        reason = NamedChoiceField(enum_name="AgendaReasonEnum", choices=AgendaItem.Reason.choices)
        position = serializers.IntegerField(required=False, min_value=1, max_value=10_000)
        presenting_agency = AgencyField(required=False, allow_null=True)
        minutes_allotted = serializers.IntegerField(required=False, min_value=1, max_value=240, default=10)

    @extend_schema(tags=["mdt"], responses={200: AgendaItemOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        qs = selectors.meeting_items(meeting=meeting)
        if not selectors.agenda_shared_with(user=request.user, meeting=meeting):
            qs = qs.none()
        paginator, page = _paginate(self, request, qs)
        _audit_reads(request, [AuditEntry(Action.VIEW, "mdt_meeting", meeting.pk), *_agenda_entries(Action.LIST, page)])
        return paginator.get_paginated_response(AgendaItemOutputSerializer(page, many=True).data)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={201: AgendaItemOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = services.agenda_item_add(
            meeting=meeting,
            case_id=v["case"],
            reason=v["reason"],
            position=v.get("position"),
            presenting_agency=v.get("presenting_agency"),
            minutes_allotted=v["minutes_allotted"],
            actor=request.user,
        )
        return Response(AgendaItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class MeetingItemReorderApi(APIView):
    class InputSerializer(serializers.Serializer):
        items = serializers.ListField(child=IdField(), max_length=500)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: AgendaItemOutputSerializer(many=True)})
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.agenda_reorder(meeting=meeting, item_ids=data.validated_data["items"], actor=request.user)
        return Response(AgendaItemOutputSerializer(selectors.meeting_items(meeting=meeting), many=True).data)


class AgendaItemDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = NamedChoiceField(enum_name="AgendaReasonEnum", choices=AgendaItem.Reason.choices, required=False)
        presenting_agency = AgencyField(required=False, allow_null=True)
        minutes_allotted = serializers.IntegerField(required=False, min_value=1, max_value=240)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: AgendaItemOutputSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        item = selectors.agenda_item_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        item = services.agenda_item_update(item=item, data=dict(data.validated_data), actor=request.user)
        return Response(AgendaItemOutputSerializer(item).data)

    @extend_schema(tags=["mdt"], request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        item = selectors.agenda_item_get_visible(user=request.user, pk=pk)
        services.agenda_item_remove(item=item, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgendaItemReviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        summary = serializers.CharField(max_length=20_000)
        decisions = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: AgendaItemOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        item = selectors.agenda_item_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.agenda_item_review(
            item=item,
            summary=data.validated_data["summary"],
            decisions=data.validated_data["decisions"],
            actor=request.user,
        )
        return Response(AgendaItemOutputSerializer(item).data)


# --- the agenda view and its exports --------------------------------------------------------------


class AlertSerializer(serializers.Serializer):
    kind = serializers.CharField()
    summary = serializers.CharField()


class DeadlineSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    due_at = serializers.DateTimeField()
    status = serializers.CharField(help_text="open, or missed once past due")


class CarriedActionItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    agency = serializers.CharField()
    assignee = serializers.IntegerField(allow_null=True)
    assignee_name = serializers.CharField()
    due_at = serializers.DateTimeField()
    status = serializers.CharField()
    meeting = serializers.IntegerField(allow_null=True)


class LastReviewSerializer(serializers.Serializer):
    meeting = serializers.IntegerField()
    meeting_starts_at = serializers.DateTimeField()
    summary = serializers.CharField()
    decisions = serializers.CharField()
    reviewed_at = serializers.DateTimeField()


class AgendaCaseSerializer(serializers.Serializer):
    """The agenda view of one case — and nothing else: no names, date of birth, notes,
    placement or contact details, or protected alert details."""

    item = serializers.IntegerField()
    position = serializers.IntegerField()
    reason = serializers.CharField()
    presenting_agency = serializers.CharField(allow_null=True)
    minutes_allotted = serializers.IntegerField()
    case = serializers.IntegerField()
    case_number = serializers.CharField()
    youth_initials = serializers.CharField()
    youth_age = serializers.IntegerField(allow_null=True)
    lead_agency = serializers.CharField()
    csec_status = serializers.CharField()
    safety_alerts = AlertSerializer(many=True)
    open_deadlines = DeadlineSerializer(many=True)
    open_action_items = CarriedActionItemSerializer(many=True)
    last_review = LastReviewSerializer(allow_null=True)


class AgendaOutputSerializer(serializers.Serializer):
    confidentiality = serializers.CharField()
    agenda_shared = serializers.BooleanField()
    meeting = MeetingOutputSerializer()
    items = AgendaCaseSerializer(many=True)


class MeetingAgendaApi(ErrorsAsJsonMixin, APIView):
    """The agenda as JSON, or as a printable PDF with `?format=pdf` (or Accept: application/pdf)."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        tags=["mdt"],
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=["json", "pdf"],
                description="pdf: a printable agenda",
            )
        ],
        responses={
            (200, "application/json"): AgendaOutputSerializer,
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The printable agenda"),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        shared = selectors.agenda_shared_with(user=request.user, meeting=meeting)
        view = selectors.agenda_view(user=request.user, meeting=meeting) if shared else []
        as_pdf = request.accepted_renderer.format == PDFRenderer.format
        action = Action.EXPORT if as_pdf else Action.VIEW
        fmt = "pdf" if as_pdf else "json"
        _audit_reads(
            request,
            [
                AuditEntry(action, "mdt_meeting", meeting.pk, detail={"format": fmt, "items": len(view)}),
                *[
                    AuditEntry(
                        action,
                        "case_agenda_view",
                        e["case"],
                        youth_id=e["youth_id"],
                        detail={"meeting": meeting.pk, "format": fmt},
                    )
                    for e in view
                ],
            ],
        )
        if as_pdf:
            pdf = exports.agenda_pdf(meeting=meeting, view=view)
            filename = f"agenda-{meeting.team.code.lower()}-{meeting.pk}.pdf"
            return Response(
                pdf,
                content_type="application/pdf",
                headers={
                    "Content-Disposition": f'attachment; filename="{filename}"',
                    "Cache-Control": "no-store",
                },
            )
        payload = {
            "confidentiality": exports.CONFIDENTIALITY_HEADING,
            "agenda_shared": shared,
            "meeting": meeting,
            "items": view,
        }
        flags = selectors.membership_flags(user=request.user)
        return Response(
            AgendaOutputSerializer(payload, context={"flags": flags}).data, headers={"Cache-Control": "no-store"}
        )


class MeetingCalendarApi(ErrorsAsJsonMixin, APIView):
    """The meeting as one RFC 5545 event: stable UID, UTC times, no case details."""

    renderer_classes = [ICSRenderer]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        tags=["mdt"],
        operation_id="mdt_meeting_calendar_ics",
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="One RFC 5545 VEVENT")},
    )
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        _audit_reads(request, [AuditEntry(Action.EXPORT, "mdt_meeting", meeting.pk, detail={"format": "ics"})])
        return Response(
            exports.meeting_ics(meeting=meeting),
            content_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.pk}.ics"'},
        )


class MeetingSuggestionsApi(APIView):
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        case = serializers.IntegerField(source="pk")
        case_number = serializers.CharField(source="number")
        lead_agency = serializers.CharField(source="lead_agency.code")
        csec_status = serializers.CharField()
        next_hearing_at = serializers.DateTimeField()

    @extend_schema(tags=["mdt"], responses={200: OutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        if not selectors.is_coordinator(user=request.user, team=meeting.team_id):
            raise ApplicationError("Only the team's coordinators build the agenda.", code="forbidden")
        paginator, page = _paginate(self, request, selectors.meeting_suggestions(user=request.user, meeting=meeting))
        _audit_reads(
            request,
            [
                AuditEntry(
                    Action.LIST, "mdt_suggestion", case.pk, youth_id=case.youth_id, detail={"meeting": meeting.pk}
                )
                for case in page
            ],
            empty=_empty_list("mdt_suggestion", meeting=meeting.pk),
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


# --- attendance -----------------------------------------------------------------------------------


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
        user = serializers.PrimaryKeyRelatedField(queryset=_active_users())
        present = serializers.BooleanField()
        agency = AgencyField(required=False, allow_null=True)

    @extend_schema(tags=["mdt"], responses={200: AttendanceOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        paginator, page = _paginate(self, request, selectors.meeting_attendance(meeting=meeting))
        _audit_reads(
            request,
            [AuditEntry(Action.LIST, "mdt_attendance", a.pk, detail={"meeting": meeting.pk}) for a in page],
            empty=_empty_list("mdt_attendance", meeting=meeting.pk),
        )
        return paginator.get_paginated_response(AttendanceOutputSerializer(page, many=True).data)

    @extend_schema(
        tags=["mdt"],
        request=InputSerializer,
        responses={201: AttendanceOutputSerializer, 200: AttendanceOutputSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record, created = services.attendance_record(
            meeting=meeting, user=v["user"], present=v["present"], agency=v.get("agency"), actor=request.user
        )
        return Response(
            AttendanceOutputSerializer(record).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


# --- action items ---------------------------------------------------------------------------------


class ActionItemOutputSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    team = serializers.IntegerField(source="team_id")
    meeting = serializers.IntegerField(source="meeting_id", allow_null=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    assignee_name = serializers.SerializerMethodField()
    agency = serializers.CharField(source="agency.code")
    status = NamedChoiceField(enum_name="ActionItemStatusEnum", choices=ActionItem.Status.choices, read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "case",
            "case_number",
            "team",
            "meeting",
            "description",
            "assignee",
            "assignee_name",
            "agency",
            "due_at",
            "status",
            "done_at",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]

    def get_assignee_name(self, obj: ActionItem) -> str:
        return obj.assignee.get_full_name() if obj.assignee_id else ""


def _action_item_entries(action: str, items: list[ActionItem]) -> list[AuditEntry]:
    return [AuditEntry(action, "mdt_action_item", item.pk, youth_id=item.case.youth_id) for item in items]


class ActionItemListCreateApi(APIView):
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        case = IdField(required=False)
        meeting = IdField(required=False)
        team = IdField(required=False)
        assignee = IdField(required=False)
        status = NamedChoiceField(enum_name="ActionItemStatusEnum", choices=ActionItem.Status.choices, required=False)

    class InputSerializer(serializers.Serializer):
        case = IdField()
        meeting = IdField(required=False, allow_null=True)
        description = serializers.CharField(max_length=5000)
        assignee = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
        agency = AgencyField()
        due_at = SaneDateTimeField()
        status = NamedChoiceField(
            enum_name="ActionItemStatusEnum",
            choices=ActionItem.Status.choices,
            required=False,
            default=ActionItem.Status.OPEN,
        )

    @extend_schema(tags=["mdt"], parameters=[FilterSerializer], responses={200: ActionItemOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.action_item_list_visible_to(user=request.user)
        for name in ("case", "meeting", "team", "assignee"):
            if name in filters.validated_data:
                qs = qs.filter(**{f"{name}_id": filters.validated_data[name]})
        if "status" in filters.validated_data:
            qs = qs.filter(status=filters.validated_data["status"])
        paginator, page = _paginate(self, request, qs)
        _audit_reads(request, _action_item_entries(Action.LIST, page), empty=_empty_list("mdt_action_item"))
        return paginator.get_paginated_response(ActionItemOutputSerializer(page, many=True).data)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={201: ActionItemOutputSerializer})
    def post(self, request: Request) -> Response:
        if not may_sit_on_team(request.user):
            raise ApplicationError("Action items are recorded by MDT team members.", code="forbidden")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        meeting = None
        if v.get("meeting"):
            meeting = selectors.meeting_list_visible_to(user=request.user).filter(pk=v["meeting"]).first()
            if meeting is None:
                raise ApplicationError("No such meeting.", fields={"meeting": ["Not found."]})
        item = services.action_item_create(
            case_id=v["case"],
            meeting=meeting,
            description=v["description"],
            assignee=v.get("assignee"),
            agency=v["agency"],
            due_at=v["due_at"],
            status=v["status"],
            actor=request.user,
        )
        item = selectors.action_item_list_visible_to(user=request.user).get(pk=item.pk)
        return Response(ActionItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class ActionItemDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        description = serializers.CharField(max_length=5000, required=False)
        assignee = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
        agency = AgencyField(required=False)
        due_at = SaneDateTimeField(required=False)
        status = NamedChoiceField(enum_name="ActionItemStatusEnum", choices=ActionItem.Status.choices, required=False)

    @extend_schema(tags=["mdt"], responses={200: ActionItemOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        item = selectors.action_item_get_visible(user=request.user, pk=pk)
        _audit_reads(request, _action_item_entries(Action.VIEW, [item]))
        return Response(ActionItemOutputSerializer(item).data, headers={"ETag": etag_for(item)})

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: ActionItemOutputSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        item = selectors.action_item_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.action_item_update(
            item=item, data=dict(data.validated_data), actor=request.user, if_match=request.headers.get("If-Match")
        )
        item = selectors.action_item_get_visible(user=request.user, pk=pk)
        return Response(ActionItemOutputSerializer(item).data, headers={"ETag": etag_for(item)})


# --- personal calendar feeds ----------------------------------------------------------------------


class CalendarFeedApi(APIView):
    """The caller's own calendar subscription: see whether it is on, create or rotate its secret
    URL (shown once), revoke it."""

    class StatusSerializer(serializers.Serializer):
        active = serializers.BooleanField()
        created_at = serializers.DateTimeField(allow_null=True)
        last_used_at = serializers.DateTimeField(allow_null=True)

    class CreatedSerializer(serializers.Serializer):
        url = serializers.URLField()
        created_at = serializers.DateTimeField()

    @extend_schema(tags=["mdt"], responses={200: StatusSerializer})
    def get(self, request: Request) -> Response:
        feed = selectors.calendar_feed_get(user=request.user)
        _audit_reads(request, [AuditEntry(Action.VIEW, "mdt_calendar_feed", feed.pk if feed else "")])
        return Response(
            self.StatusSerializer(
                {
                    "active": feed is not None,
                    "created_at": feed.created_at if feed else None,
                    "last_used_at": feed.last_used_at if feed else None,
                }
            ).data
        )

    @extend_schema(tags=["mdt"], request=None, responses={201: CreatedSerializer})
    def post(self, request: Request) -> Response:
        from django.conf import settings
        from django.urls import reverse

        feed, token = services.calendar_feed_rotate(actor=request.user)
        url = settings.HARBOR_BASE_URL.rstrip("/") + reverse("mdt-calendar-feed-public", kwargs={"token": token})
        return Response(
            self.CreatedSerializer({"url": url, "created_at": feed.created_at}).data,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @extend_schema(tags=["mdt"], request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        services.calendar_feed_revoke(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedThrottle(AnonRateThrottle):
    scope = "mdt_feed"
    rate = "120/min"


class CalendarFeedPublicApi(ErrorsAsJsonMixin, APIView):
    """A member's personal feed: their teams' meetings, no case details. The random secret in
    the path is the credential (only its hash is stored); revoking or rotating it ends access."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [FeedThrottle]
    renderer_classes = [ICSRenderer]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        tags=["mdt"],
        auth=[],
        operation_id="mdt_calendar_feed_ics",
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="RFC 5545 calendar")},
    )
    def get(self, request: Request, token: str) -> HttpResponse | Response:
        if len(token) > 128:
            raise ApplicationError("Not found.", code="not_found")
        feed = selectors.calendar_feed_by_token(token=token)
        meetings = list(selectors.calendar_feed_meetings(user=feed.user))
        with transaction.atomic():
            type(feed).objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
            audit_record(
                actor=feed.user,
                action=Action.EXPORT,
                object_type="mdt_calendar_feed",
                object_id=feed.pk,
                detail={"format": "ics", "meetings": len(meetings), "via": "feed"},
            )
        return Response(
            exports.feed_ics(meetings=meetings),
            content_type="text/calendar; charset=utf-8",
            headers={"Cache-Control": "private, no-store"},
        )
