"""Share requests (SPEC §1 "Sharing has one door", §6 sharing): an agency that accepted a
referral for a youth whose open case another agency leads asks that agency to share the case.
The lead agency's supervisors list those awaiting them, approve (choosing the legal basis: the
same grant and rules as `POST /api/v1/cases/{id}/agencies/`) or decline with a reason.

Thin, like cases/apis.py: reads through cases/selectors.py (a request the caller may not see
answers 404), writes through cases/sharing.py (403 / 409 / 400 from its rules)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.times import BoundedDateTimeField

from . import selectors, sharing
from .apis import CaseDataApi, PaginatedApi
from .models import CaseAgency, ShareRequest


class ShareRequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    agency = serializers.CharField(source="agency.code", help_text="The agency asking to share the case.")
    referral = serializers.IntegerField(source="referral_id", help_text="The referral whose acceptance raised it.")
    status = serializers.ChoiceField(choices=ShareRequest.Status.choices)
    created_at = serializers.DateTimeField()
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decline_reason = serializers.CharField()
    participation = serializers.IntegerField(
        source="participation_id", allow_null=True, help_text="The participation an approval granted."
    )


class ShareRequestListApi(PaginatedApi):
    """The share requests awaiting a decision of the caller's agency (its supervisors; an empty
    list for everyone else)."""

    audit_object_type = "share_request"
    serializer_class = ShareRequestOutputSerializer

    def get_queryset(self) -> Any:
        if self._fake():
            return ShareRequest.objects.none()
        return selectors.share_request_awaiting(user=self.request.user)

    def youth_of(self, row: Any) -> int | None:
        return row.case.youth_id

    @extend_schema(
        summary="List the share requests awaiting your agency",
        description=(
            "Agencies that accepted a referral for a youth whose open case your agency leads, asking "
            "you to share the case. Only the lead agency's supervisors see them; for anyone else the "
            "list is empty."
        ),
        responses={200: ShareRequestOutputSerializer(many=True)},
        tags=["sharing"],
    )
    def get(self, request: Request) -> Response:
        return self.list_response(self.get_queryset(), object_type="share_request")


class _ShareRequestActionApi(CaseDataApi):
    audit_object_type = "share_request"

    def share_request(self) -> ShareRequest:
        return selectors.share_request_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def done(self, share_request: ShareRequest) -> Response:
        fresh = selectors.share_request_get_visible(user=self.request.user, pk=share_request.pk)
        return Response(ShareRequestOutputSerializer(fresh).data)


class ShareRequestApproveApi(_ShareRequestActionApi):
    class InputSerializer(serializers.Serializer):
        legal_basis = serializers.ChoiceField(
            choices=[c for c in CaseAgency.LegalBasis.choices if c[0] != CaseAgency.LegalBasis.LEAD]
        )
        expires_at = BoundedDateTimeField(required=False, allow_null=True)
        good_cause = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        summary="Approve a share request",
        description=(
            "Share the case with the requesting agency on the legal basis you choose, with the rules of "
            "sharing a case: WIC 18961.7 sharing ends 30 days after the report (after that it needs a "
            "good cause and lasts 30 days at most); consent needs the authorization's end date. "
            "A request already decided answers 409."
        ),
        request=InputSerializer,
        responses={200: ShareRequestOutputSerializer},
        examples=[OpenApiExample("18961.7", value={"legal_basis": "mdt_18961_7"}, request_only=True)],
        tags=["sharing"],
    )
    def post(self, request: Request, pk: int) -> Response:
        share_request = self.share_request()
        data = self.validated(self.InputSerializer)
        approved = sharing.share_request_approve(share_request=share_request, actor=request.user, **data)
        return self.done(approved)


class ShareRequestDeclineApi(_ShareRequestActionApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        summary="Decline a share request",
        description="Nothing is shared; the reason is kept with the request. A request already decided answers 409.",
        request=InputSerializer,
        responses={200: ShareRequestOutputSerializer},
        examples=[
            OpenApiExample("Reason", value={"reason": "No current role in the youth's care."}, request_only=True)
        ],
        tags=["sharing"],
    )
    def post(self, request: Request, pk: int) -> Response:
        share_request = self.share_request()
        data = self.validated(self.InputSerializer)
        declined = sharing.share_request_decline(share_request=share_request, actor=request.user, **data)
        return self.done(declined)
