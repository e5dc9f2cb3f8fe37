"""Teams and their rosters: the caller's teams, a team's members, adding and removing them (system admin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry
from core.errors import ApplicationError
from core.pagination import PageNumberPagination
from core.permissions import is_system_admin
from mdt import selectors
from mdt.apis.fields import active_users
from mdt.apis.reads import audit_reads, empty_list, paginate
from mdt.models import MDTTeam, TeamMembership
from mdt.services.teams import team_member_add, team_member_remove

Action = AuditEvent.Action


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
    def get(self, request: AuthedRequest) -> Response:
        paginator, page = paginate(self, request, selectors.team_list(user=request.user))
        flags = selectors.membership_flags(user=request.user)
        audit_reads(
            request, [AuditEntry(Action.LIST, "mdt_team", team.pk) for team in page], empty=empty_list("mdt_team")
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
        user = serializers.PrimaryKeyRelatedField(queryset=active_users())
        is_coordinator = serializers.BooleanField(required=False, default=False)

    @extend_schema(tags=["mdt"], responses={200: MembershipOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        paginator, page = paginate(self, request, selectors.team_membership_list(user=request.user, team=team))
        audit_reads(
            request,
            [AuditEntry(Action.LIST, "mdt_team_membership", m.pk, detail={"team": team.code}) for m in page],
            empty=empty_list("mdt_team_membership", team=team.code),
        )
        return paginator.get_paginated_response(MembershipOutputSerializer(page, many=True).data)

    @extend_schema(
        tags=["mdt"],
        request=InputSerializer,
        responses={201: MembershipOutputSerializer, 200: MembershipOutputSerializer},
    )
    def post(self, request: AuthedRequest, pk: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        if not is_system_admin(request.user):
            raise ApplicationError("Only a system admin manages team membership.", code="forbidden")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership, created = team_member_add(
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
    def delete(self, request: AuthedRequest, pk: int, user_id: int) -> Response:
        team = selectors.team_get(user=request.user, pk=pk)
        team_member_remove(team=team, user_id=user_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
