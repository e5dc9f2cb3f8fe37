"""Sharing a case (SPEC §1 "Sharing has one door", §6 sharing): the agencies participating in
a case — listed, granted, renewed and revoked by the lead agency's supervisors under
`/api/v1/cases/{id}/agencies/` — and share requests: an agency that accepted a referral for a
youth whose open case another agency leads asks that agency to share the case. The lead
agency's supervisors list those awaiting them, approve (choosing the legal basis: the same
grant and rules as `POST /api/v1/cases/{id}/agencies/`) or decline with a reason.

Thin, like the other case endpoints: reads through cases/selectors/ (a request the caller may
not see answers 404), writes through cases/services/sharing.py (403 / 409 / 400 from its
rules)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.http import AuthedRequest
from core.times import BoundedDateTimeField

from ..models import CaseAgency, ShareRequest
from ..selectors import parts as part_selectors
from ..selectors import visibility
from ..services import cases as case_services
from ..services import sharing
from .base import CaseDataApi, CasePartListApi, PaginatedApi, _case_for
from .fields import AgencyCodeField

# --- participating agencies ------------------------------------------------------------------------


class CaseAgencyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agency = serializers.CharField(source="agency.code")
    legal_basis = serializers.CharField()
    granted_by = serializers.IntegerField(source="granted_by_id", allow_null=True)
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    good_cause = serializers.CharField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.SerializerMethodField()

    def get_is_active(self, obj: CaseAgency) -> bool:
        return obj.revoked_at is None and (obj.expires_at is None or obj.expires_at > timezone.now())


class CaseAgenciesApi(CasePartListApi):
    audit_object_type = "case_agency"
    part_model = CaseAgency
    serializer_class = CaseAgencyOutputSerializer

    class InputSerializer(serializers.Serializer):
        agency = AgencyCodeField()
        legal_basis = serializers.ChoiceField(choices=CaseAgency.LegalBasis.choices)
        expires_at = BoundedDateTimeField(required=False, allow_null=True)
        good_cause = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def part_queryset(self) -> Any:
        return part_selectors.case_agency_list(case=self.case)

    @extend_schema(responses={200: CaseAgencyOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: CaseAgencyOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        participation = case_services.case_agency_grant(case=self.case, actor=request.user, **data)
        return self.created(participation)


class CaseAgencyRenewApi(CaseDataApi):
    """Renew a participation (WIC 18961.7: with a recorded good cause; 30 days at most)."""

    audit_object_type = "case_agency"

    class InputSerializer(serializers.Serializer):
        good_cause = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        expires_at = BoundedDateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: CaseAgencyOutputSerializer})
    def post(self, request: AuthedRequest, pk: int, agency_code: str) -> Response:
        case, _ = _case_for(self)
        participation = part_selectors.case_agency_get(case=case, agency_code=agency_code)
        data = self.validated(self.InputSerializer)
        participation = case_services.case_agency_renew(participation=participation, actor=request.user, **data)
        return Response(CaseAgencyOutputSerializer(participation).data)


class CaseAgencyRevokeApi(CaseDataApi):
    audit_object_type = "case_agency"

    @extend_schema(request=None, responses={200: CaseAgencyOutputSerializer})
    def post(self, request: AuthedRequest, pk: int, agency_code: str) -> Response:
        case, _ = _case_for(self)
        participation = part_selectors.case_agency_get(case=case, agency_code=agency_code)
        participation = case_services.case_agency_revoke(participation=participation, actor=request.user)
        return Response(CaseAgencyOutputSerializer(participation).data)


# --- share requests --------------------------------------------------------------------------------


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
        return visibility.share_request_awaiting(user=self.request.user)

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
    def get(self, request: AuthedRequest) -> Response:
        return self.list_response(self.get_queryset(), object_type="share_request")


class _ShareRequestActionApi(CaseDataApi):
    audit_object_type = "share_request"

    def share_request(self) -> ShareRequest:
        return visibility.share_request_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def done(self, share_request: ShareRequest) -> Response:
        fresh = visibility.share_request_get_visible(user=self.request.user, pk=share_request.pk)
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
    def post(self, request: AuthedRequest, pk: int) -> Response:
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
    def post(self, request: AuthedRequest, pk: int) -> Response:
        share_request = self.share_request()
        data = self.validated(self.InputSerializer)
        declined = sharing.share_request_decline(share_request=share_request, actor=request.user, **data)
        return self.done(declined)
