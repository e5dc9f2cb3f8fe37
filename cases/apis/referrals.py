"""Referrals (SPEC §2, §6): list and log one (for a youth the caller may see, or a new one,
with the possible duplicates), read and edit it (If-Match), and the decisions of the receiving
agency's supervisors: screen, accept, decline, mark as a duplicate."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent
from core.errors import ApplicationError
from core.etags import etag_for
from core.times import BoundedDateTimeField, BoundedIsoDateTimeFilter

from .. import matching
from ..models import Referral, Screening, Youth
from ..permissions import can_decide_referral
from ..selectors import visibility
from ..services import referrals as referral_services
from ..throttles import ALLOWED, duplicate_search_take, duplicate_search_take_once
from .base import CaseDataApi, PaginatedApi, _audit_read
from .duplicates import (
    PossibleDuplicateSerializer,
    _duplicates,
    _external_ids_held_elsewhere,
    _open_case_warnings,
    _person_of,
    _search,
)
from .fields import AgencyCodeField, _clock_field
from .youth import YouthInputSerializer

Action = AuditEvent.Action


_YOUTH_REF_SCHEMA = {
    "oneOf": [
        {"type": "integer", "description": "An existing youth you may see."},
        {
            "type": "object",
            "description": "A new youth.",
            "properties": {
                "first_name": {"type": "string", "maxLength": 100},
                "last_name": {"type": "string", "maxLength": 100},
                "date_of_birth": {"type": "string", "format": "date", "nullable": True},
                "gender_identity": {"type": "string", "enum": [c for c, _ in Youth.GenderIdentity.choices]},
                "gender_identity_detail": {"type": "string"},
                "pronouns": {"type": "string"},
                "preferred_language": {"type": "string"},
                "aliases": {"type": "array", "items": {"type": "string", "maxLength": 100}},
                "external_ids": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "agency": {"type": "string"},
                            "kind": {"type": "string"},
                            "value": {"type": "string"},
                        },
                        "required": ["agency", "value"],
                    },
                },
            },
            "required": ["first_name", "last_name"],
        },
    ]
}


@extend_schema_field(_YOUTH_REF_SCHEMA)
class YouthRefField(serializers.Field):
    """An existing youth id (one the caller may see; otherwise it is simply not found) or an
    inline new youth."""

    default_error_messages = {
        "does_not_exist": 'Invalid pk "{pk_value}" - object does not exist.',
        "invalid": "Give a youth id or a youth object.",
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int) or (isinstance(data, str) and data.isdigit() and len(data) < 19):
            pk = int(data)
            request = self.context["request"]
            youth = visibility.youth_list_visible_to(user=request.user).filter(pk=pk).first()
            if youth is None:
                self.fail("does_not_exist", pk_value=pk)
            return {"existing": youth}
        if isinstance(data, dict):
            inline = YouthInputSerializer(data=data, context=self.context)
            if not inline.is_valid():
                raise serializers.ValidationError(inline.errors)
            return {"new": dict(inline.validated_data)}
        self.fail("invalid")
        return {}  # pragma: no cover

    def to_representation(self, value: Any) -> Any:
        return value


class ScreeningOutputSerializer(serializers.Serializer):
    level = serializers.CharField()
    suggested_level = serializers.CharField()
    instrument = serializers.CharField()
    instrument_version = serializers.CharField()
    screened_by = serializers.IntegerField(source="screened_by_id")
    screened_at = serializers.DateTimeField()


class ReferralDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    youth = serializers.IntegerField(source="youth_id")
    referring_agency = serializers.CharField(source="referring_agency.code")
    receiving_agency = serializers.CharField(source="receiving_agency.code")
    created_by = serializers.IntegerField(source="created_by_id")
    received_at = serializers.DateTimeField()
    source = serializers.CharField()
    indicators = serializers.ListField(child=serializers.CharField())
    narrative = serializers.CharField()
    information_received_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the reporter learned of the abuse; the 36-hour written report clock runs from it "
        "(null: from hotline_reported_at).",
    )
    hotline_reported_at = serializers.DateTimeField(allow_null=True)
    written_report_submitted_at = serializers.DateTimeField(allow_null=True)
    recovered_at = serializers.DateTimeField(allow_null=True)
    responder_arrived_at = serializers.DateTimeField(allow_null=True)
    law_enforcement_notified_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    decline_reason = serializers.CharField()
    duplicate_of = serializers.IntegerField(source="duplicate_of_id", allow_null=True)
    screening = serializers.SerializerMethodField()
    suggested_level = serializers.SerializerMethodField()
    case = serializers.IntegerField(source="case_id", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(ScreeningOutputSerializer(allow_null=True))
    def get_screening(self, obj: Referral) -> dict | None:
        try:
            screening = obj.screening
        except Screening.DoesNotExist:
            return None
        return ScreeningOutputSerializer(screening).data

    @extend_schema_field(OpenApiTypes.STR)
    def get_suggested_level(self, obj: Referral) -> str:
        return referral_services.suggested_level(indicators=obj.indicators, source=obj.source)


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Referral.Status.choices)
    source = django_filters.ChoiceFilter(choices=Referral.Source.choices)
    youth = django_filters.NumberFilter(field_name="youth_id")
    case = django_filters.NumberFilter(field_name="case_id")
    referring_agency = django_filters.CharFilter(field_name="referring_agency__code")
    receiving_agency = django_filters.CharFilter(field_name="receiving_agency__code")
    received_after = BoundedIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = BoundedIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Referral
        fields: list[str] = []


class ReferralListCreateApi(PaginatedApi):
    audit_object_type = "referral"
    filterset_class = ReferralFilter

    class InputSerializer(serializers.Serializer):
        youth = YouthRefField()
        receiving_agency = AgencyCodeField(required=False, allow_null=True)
        received_at = BoundedDateTimeField()
        source = serializers.ChoiceField(choices=Referral.Source.choices)
        indicators = serializers.ListField(
            child=serializers.SlugField(max_length=64), max_length=30, required=False, default=list
        )
        narrative = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
        information_received_at = _clock_field()
        hotline_reported_at = _clock_field()
        written_report_submitted_at = _clock_field()
        recovered_at = _clock_field()
        responder_arrived_at = _clock_field()
        law_enforcement_notified_at = _clock_field()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        youth = serializers.IntegerField(source="youth_id")
        referring_agency = serializers.CharField(source="referring_agency.code")
        receiving_agency = serializers.CharField(source="receiving_agency.code")
        received_at = serializers.DateTimeField()
        source = serializers.CharField()
        status = serializers.CharField()
        case = serializers.IntegerField(source="case_id", allow_null=True)
        created_at = serializers.DateTimeField()

    class CreateOutputSerializer(ReferralDetailSerializer):
        possible_duplicates = PossibleDuplicateSerializer(many=True)

    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return visibility.referral_list_visible_to(user=self.request.user)

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.list_response(self.filter_queryset(self.get_queryset()), object_type="referral")

    @extend_schema(request=InputSerializer, responses={201: CreateOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.validated(self.InputSerializer)
        ref = data.pop("youth")
        # One search of the budget for the create (its duplicate report and its external ids).
        budget = duplicate_search_take(user=request.user)
        new_youth, held_elsewhere = _external_ids_held_elsewhere(request, ref.get("new"), budget)
        referral = referral_services.referral_create(
            actor=request.user, youth=ref.get("existing"), youth_data=new_youth, **data
        )
        referral = visibility.referral_get_visible(user=request.user, pk=referral.pk)
        body = dict(ReferralDetailSerializer(referral).data)
        youth = referral.youth
        body["possible_duplicates"] = _duplicates(
            request,
            _person_of(youth),
            via="referral_create",
            budget=budget,
            exclude=[youth.pk],
            hidden_also=held_elsewhere,
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"ETag": etag_for(referral)})


class ReferralReadSerializer(ReferralDetailSerializer):
    possible_duplicates = PossibleDuplicateSerializer(
        many=True,
        allow_null=True,
        help_text="While the referral awaits its decision (received or screening): the possible "
        "duplicates of its youth, as a create reports them — records you may see with their score, "
        "only the agency to ask about one you may not. Null once the referral is decided.",
    )


def _referral_duplicates(request: Request, referral: Referral) -> list[dict[str, Any]] | None:
    """SPEC §2: the possible duplicates of an undecided referral's youth, for whoever screens and
    decides it — the same search, visibility rules, audit and budget as a create's. Reading the
    same record again (the same names and date of birth) within the hour is not counted again;
    over the budget, only the records the reader may see are reported."""
    if referral.status in referral_services.REFERRAL_DECIDED:
        return None
    youth = referral.youth
    person = _person_of(youth)
    budget = duplicate_search_take_once(user=request.user, key=f"youth:{youth.pk}:{matching.query_fingerprint(person)}")
    return _duplicates(request, person, via="referral_detail", budget=budget, exclude=[youth.pk])


class ReferralDetailApi(CaseDataApi):
    audit_object_type = "referral"

    class InputSerializer(serializers.Serializer):
        received_at = BoundedDateTimeField(required=False)
        source = serializers.ChoiceField(choices=Referral.Source.choices, required=False)
        indicators = serializers.ListField(child=serializers.SlugField(max_length=64), max_length=30, required=False)
        narrative = serializers.CharField(max_length=20000, required=False, allow_blank=True)
        information_received_at = _clock_field()
        hotline_reported_at = _clock_field()
        written_report_submitted_at = _clock_field()
        recovered_at = _clock_field()
        responder_arrived_at = _clock_field()
        law_enforcement_notified_at = _clock_field()

    @extend_schema(responses={200: ReferralReadSerializer})
    def get(self, request: Request, pk: int) -> Response:
        referral = visibility.referral_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "referral", referral.pk, referral.youth_id)
        body = dict(ReferralDetailSerializer(referral).data)
        body["possible_duplicates"] = _referral_duplicates(request, referral)
        return Response(body, headers={"ETag": etag_for(referral)})

    @extend_schema(
        request=InputSerializer,
        responses={200: ReferralDetailSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        referral = visibility.referral_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer, partial=True)
        referral_services.referral_update(
            referral=referral, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        referral = visibility.referral_get_visible(user=request.user, pk=pk)
        return Response(ReferralDetailSerializer(referral).data, headers={"ETag": etag_for(referral)})


class ReferralActionApi(CaseDataApi):
    audit_object_type = "referral"

    def referral(self) -> Referral:
        return visibility.referral_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def done(self) -> Response:
        referral = visibility.referral_get_visible(user=self.request.user, pk=self.kwargs["pk"])
        return Response(ReferralDetailSerializer(referral).data, headers={"ETag": etag_for(referral)})


class ReferralScreenApi(ReferralActionApi):
    """Record the screening (supervisors of the receiving agency). The level the indicators
    suggest is returned beside the level chosen."""

    class InputSerializer(serializers.Serializer):
        level = serializers.ChoiceField(choices=Screening.Level.choices)
        instrument = serializers.CharField(max_length=100)
        instrument_version = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: ReferralDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        referral = self.referral()
        data = self.validated(self.InputSerializer)
        referral_services.referral_screen(referral=referral, actor=request.user, **data)
        return self.done()


class AcceptWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="`possible_duplicate_with_open_case`")
    youth = serializers.IntegerField(required=False, help_text="A record you may see.")
    score = serializers.FloatField(required=False, min_value=0, max_value=1)
    agency = serializers.CharField(required=False, help_text="The agency to ask about a record you may not see.")
    detail = serializers.CharField()


class ReferralAcceptApi(ReferralActionApi):
    """Accept (supervisors of the receiving agency). `youth` links the referral to an existing
    youth record the supervisor may see instead of the one it was created with (SPEC §2); any
    other id answers 400 as an unknown one does. Accepting without choosing while the youth has
    an exact possible duplicate with an open case still accepts, and says so under `warnings`."""

    class InputSerializer(serializers.Serializer):
        youth = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            help_text="An existing youth you may see, to link the referral to instead of its own record.",
        )

    class OutputSerializer(ReferralDetailSerializer):
        warnings = AcceptWarningSerializer(many=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        referral = self.referral()
        data = self.validated(self.InputSerializer)
        chosen = None
        if data.get("youth") is not None:
            if not can_decide_referral(request.user, referral):
                # who may not accept hears that first, before anything about the record chosen
                raise ApplicationError(
                    "Only a supervisor of the receiving agency decides on a referral.", code="forbidden"
                )
            # A record the supervisor may not see answers as one that does not exist (SPEC §1).
            chosen = visibility.youth_list_visible_to(user=request.user).filter(pk=data["youth"]).first()
            if chosen is None:
                raise ApplicationError(
                    "Unknown youth.",
                    fields={"youth": ["Send the id of a youth record you may see, e.g. one of possible_duplicates."]},
                )
        referral_services.referral_accept(referral=referral, actor=request.user, youth=chosen)
        referral = visibility.referral_get_visible(user=request.user, pk=pk)
        body = dict(ReferralDetailSerializer(referral).data)
        body["warnings"] = [] if chosen is not None else self._warnings(request, referral)
        return Response(body, headers={"ETag": etag_for(referral)})

    def _warnings(self, request: Request, referral: Referral) -> list[dict[str, Any]]:
        """SPEC §2: accepted without choosing — the exact possible duplicates with an open case,
        which the supervisor should hear of now. The search is audited like every search; it is
        not taken from the budget (a referral is accepted once: this teaches nothing on demand)."""
        youth = referral.youth
        found = _search(request, _person_of(youth), via="referral_accept", budget=ALLOWED, exclude=[youth.pk])
        return _open_case_warnings(found)


class ReferralDeclineApi(ReferralActionApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: ReferralDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        referral = self.referral()
        data = self.validated(self.InputSerializer)
        referral_services.referral_decline(referral=referral, actor=request.user, reason=data["reason"])
        return self.done()


class ReferralMarkDuplicateApi(ReferralActionApi):
    class InputSerializer(serializers.Serializer):
        duplicate_of = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: ReferralDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        referral = self.referral()
        data = self.validated(self.InputSerializer)
        original = None
        if data.get("duplicate_of") is not None:
            original = visibility.referral_list_visible_to(user=request.user).filter(pk=data["duplicate_of"]).first()
            if original is None:
                raise ApplicationError("Unknown referral.", fields={"duplicate_of": ["Not found."]})
        referral_services.referral_mark_duplicate(referral=referral, actor=request.user, duplicate_of=original)
        return self.done()
