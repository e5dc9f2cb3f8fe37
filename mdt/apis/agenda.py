"""A meeting's agenda: its items (add, edit, remove, reorder, review), the agenda view and its PDF,
and the cases suggested for it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import AgencyField
from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.errors import ApplicationError
from core.etags import etag_for
from core.pagination import PageNumberPagination
from mdt import exports, selectors
from mdt.apis.fields import IdField, NamedChoiceField
from mdt.apis.meetings import MeetingOutputSerializer
from mdt.apis.reads import audit_reads, empty_list, paginate
from mdt.apis.renderers import ErrorsAsJsonMixin, PDFRenderer
from mdt.models import AgendaItem, ReviewVersion
from mdt.services.agenda import (
    agenda_item_add,
    agenda_item_remove,
    agenda_item_review,
    agenda_item_update,
    agenda_reorder,
)

Action = AuditEvent.Action


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
            "withdrawn_at",
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
    def get(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        qs = selectors.meeting_items(meeting=meeting)
        if not selectors.agenda_shared_with(user=request.user, meeting=meeting):
            qs = qs.none()
        paginator, page = paginate(self, request, qs)
        audit_reads(request, [AuditEntry(Action.VIEW, "mdt_meeting", meeting.pk), *_agenda_entries(Action.LIST, page)])
        return paginator.get_paginated_response(AgendaItemOutputSerializer(page, many=True).data)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={201: AgendaItemOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = agenda_item_add(
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
    def post(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = agenda_reorder(meeting=meeting, item_ids=data.validated_data["items"], actor=request.user)
        return Response(AgendaItemOutputSerializer(selectors.meeting_items(meeting=meeting), many=True).data)


class AgendaItemDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = NamedChoiceField(enum_name="AgendaReasonEnum", choices=AgendaItem.Reason.choices, required=False)
        presenting_agency = AgencyField(required=False, allow_null=True)
        minutes_allotted = serializers.IntegerField(required=False, min_value=1, max_value=240)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: AgendaItemOutputSerializer})
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        item = selectors.agenda_item_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        item = agenda_item_update(
            item=item, data=dict(data.validated_data), actor=request.user, if_match=request.headers.get("If-Match")
        )
        return Response(AgendaItemOutputSerializer(item).data, headers={"ETag": etag_for(item)})

    @extend_schema(tags=["mdt"], request=None, responses={204: None})
    def delete(self, request: AuthedRequest, pk: int) -> Response:
        item = selectors.agenda_item_get_visible(user=request.user, pk=pk)
        agenda_item_remove(item=item, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgendaItemReviewApi(APIView):
    class InputSerializer(serializers.Serializer):
        summary = serializers.CharField(max_length=20_000)
        decisions = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: AgendaItemOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        item = selectors.agenda_item_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = agenda_item_review(
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
    # DRF's SerializerMetaclass moves declared fields off the class; drf-stubs sees this one
    # shadowing Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
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
    lead_agency = serializers.CharField(allow_null=True)
    csec_status = serializers.CharField(allow_null=True)
    safety_alerts = AlertSerializer(many=True)
    open_deadlines = DeadlineSerializer(many=True)
    open_action_items = CarriedActionItemSerializer(many=True)
    last_review = LastReviewSerializer(allow_null=True)
    withdrawn = serializers.BooleanField(
        help_text="The case left the team's court after the agenda was published: only its number "
        "and place are shown (no agenda view)."
    )
    withdrawn_at = serializers.DateTimeField(allow_null=True)


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
    def get(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        shared = selectors.agenda_shared_with(user=request.user, meeting=meeting)
        view = selectors.agenda_view(user=request.user, meeting=meeting) if shared else []
        as_pdf = request.accepted_renderer.format == PDFRenderer.format
        action = Action.EXPORT if as_pdf else Action.VIEW
        fmt = "pdf" if as_pdf else "json"
        audit_reads(
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
                    if not e["withdrawn"]
                ],
            ],
        )
        if as_pdf:
            pdf = exports.agenda_pdf(meeting=meeting, view=view, printed_by=request.user)
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


class MeetingSuggestionsApi(APIView):
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        case = serializers.IntegerField(source="pk")
        case_number = serializers.CharField(source="number")
        lead_agency = serializers.CharField(source="lead_agency.code")
        csec_status = serializers.CharField()
        next_hearing_at = serializers.DateTimeField()

    @extend_schema(tags=["mdt"], responses={200: OutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        if not selectors.is_coordinator(user=request.user, team=meeting.team_id):
            raise ApplicationError("Only the team's coordinators build the agenda.", code="forbidden")
        paginator, page = paginate(self, request, selectors.meeting_suggestions(user=request.user, meeting=meeting))
        audit_reads(
            request,
            [
                AuditEntry(
                    Action.LIST, "mdt_suggestion", case.pk, youth_id=case.youth_id, detail={"meeting": meeting.pk}
                )
                for case in page
            ],
            empty=empty_list("mdt_suggestion", meeting=meeting.pk),
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class EligibleCaseSerializer(serializers.Serializer):
    """The agenda view of a case the team may put on an agenda — and nothing else."""

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


class TeamEligibleCasesApi(APIView):
    """SPEC §4: a coordinator finds the cases they may put on an agenda by case number, among the
    open cases of the team's court. Answers the agenda view of each match only."""

    pagination_class = PageNumberPagination

    class QuerySerializer(serializers.Serializer):
        number = serializers.CharField(
            min_length=selectors.ELIGIBLE_SEARCH_MIN,
            max_length=20,
            help_text="All or part of a case number, e.g. H-2026-000123 or 000123 (at least 4 characters).",
            error_messages={
                "required": "Send part of a case number, e.g. ?number=000123.",
                "blank": "Send part of a case number, e.g. ?number=000123.",
                "min_length": "Send at least 4 characters of the case number, e.g. ?number=000123.",
                "max_length": "A case number has at most 20 characters, e.g. H-2026-000123.",
            },
        )

    @extend_schema(tags=["mdt"], parameters=[QuerySerializer], responses={200: EligibleCaseSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        if not selectors.is_coordinator(user=request.user, team=team):
            raise ApplicationError("Only the team's coordinators build its agendas.", code="forbidden")
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        cases = selectors.eligible_cases(user=request.user, team=team, number=query.validated_data["number"])
        paginator, page = paginate(self, request, cases)
        views = selectors.case_agenda_views(cases=page, team_id=team.pk, as_of=timezone.now())
        audit_reads(
            request,
            [
                AuditEntry(Action.LIST, "case_agenda_view", v["case"], youth_id=v["youth_id"], detail={"team": team.pk})
                for v in views
            ],
            empty=empty_list("case_agenda_view", team=team.pk),
        )
        return paginator.get_paginated_response(EligibleCaseSerializer(views, many=True).data)
