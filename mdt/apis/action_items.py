"""Action items: list (filtered), record, read and change one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import AgencyField
from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.errors import ApplicationError
from core.etags import etag_for
from core.pagination import PageNumberPagination
from mdt import selectors
from mdt.apis.fields import IdField, NamedChoiceField, SaneDateTimeField, active_users
from mdt.apis.filters import ActionItemFilter
from mdt.apis.reads import audit_reads, empty_list, paginate
from mdt.models import ActionItem
from mdt.permissions import may_sit_on_team
from mdt.services.action_items import action_item_create, action_item_update

Action = AuditEvent.Action


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
            "cancel_reason",
            "created_at",
            "updated_at",
        ]

    def get_assignee_name(self, obj: ActionItem) -> str:
        return obj.assignee.get_full_name() if obj.assignee is not None else ""


def _action_item_entries(action: str, items: list[ActionItem]) -> list[AuditEntry]:
    return [AuditEntry(action, "mdt_action_item", item.pk, youth_id=item.case.youth_id) for item in items]


class ActionItemListCreateApi(generics.GenericAPIView):
    pagination_class = PageNumberPagination
    filterset_class = ActionItemFilter

    class InputSerializer(serializers.Serializer):
        case = IdField()
        meeting = IdField(required=False, allow_null=True)
        description = serializers.CharField(max_length=5000)
        assignee = serializers.PrimaryKeyRelatedField(
            queryset=active_users(),
            required=False,
            allow_null=True,
            help_text="A member of the MDT team or of the case's team; the item's agency is theirs.",
        )
        agency = AgencyField(
            required=False,
            allow_null=True,
            help_text="Leave out: the item's agency is the assignee's (a different one is a 400). "
            "Needed only for an item with no assignee yet.",
        )
        due_at = SaneDateTimeField()
        status = NamedChoiceField(
            enum_name="ActionItemStatusEnum",
            choices=ActionItem.Status.choices,
            required=False,
            default=ActionItem.Status.OPEN,
        )

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return ActionItem.objects.none()
        return selectors.action_item_list_visible_to(user=self.request.user)

    @extend_schema(tags=["mdt"], responses={200: ActionItemOutputSerializer(many=True)})
    def get(self, request: AuthedRequest) -> Response:
        paginator, page = paginate(self, request, self.filter_queryset(self.get_queryset()))
        audit_reads(request, _action_item_entries(Action.LIST, page), empty=empty_list("mdt_action_item"))
        return paginator.get_paginated_response(ActionItemOutputSerializer(page, many=True).data)

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={201: ActionItemOutputSerializer})
    def post(self, request: AuthedRequest) -> Response:
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
        item = action_item_create(
            case_id=v["case"],
            meeting=meeting,
            description=v["description"],
            assignee=v.get("assignee"),
            agency=v.get("agency"),
            due_at=v["due_at"],
            status=v["status"],
            actor=request.user,
        )
        item = selectors.action_item_list_visible_to(user=request.user).get(pk=item.pk)
        return Response(ActionItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class ActionItemDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        description = serializers.CharField(max_length=5000, required=False)
        assignee = serializers.PrimaryKeyRelatedField(
            queryset=active_users(),
            required=False,
            allow_null=True,
            help_text="A member of the MDT team or of the case's team; the item moves to their agency.",
        )
        agency = AgencyField(
            required=False,
            help_text="Leave out: the item's agency is the assignee's (a different one is a 400).",
        )
        due_at = SaneDateTimeField(required=False)
        status = NamedChoiceField(enum_name="ActionItemStatusEnum", choices=ActionItem.Status.choices, required=False)

    @extend_schema(tags=["mdt"], responses={200: ActionItemOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        item = selectors.action_item_get_visible(user=request.user, pk=pk)
        audit_reads(request, _action_item_entries(Action.VIEW, [item]))
        return Response(ActionItemOutputSerializer(item).data, headers={"ETag": etag_for(item)})

    @extend_schema(tags=["mdt"], request=InputSerializer, responses={200: ActionItemOutputSerializer})
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        item = selectors.action_item_get_visible(user=request.user, pk=pk)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        action_item_update(
            item=item, data=dict(data.validated_data), actor=request.user, if_match=request.headers.get("If-Match")
        )
        item = selectors.action_item_get_visible(user=request.user, pk=pk)
        return Response(ActionItemOutputSerializer(item).data, headers={"ETag": etag_for(item)})
