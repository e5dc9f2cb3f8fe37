"""Thin API views for youth, referrals, cases and their parts (SPEC §2, §6).

Every view reads through cases/selectors.py (404 for what the user may not see), writes through
cases/services.py (403 for what the user may not do, 409 / 412 for state), and records every
read — list rows and details — in the audit log with the youth it concerns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import IsAuthenticatedWithMfa
from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services import AuditEntry, audit_record, audit_record_many
from core.errors import ApplicationError
from core.etags import etag_for
from core.pagination import PageNumberPagination
from core.times import BoundedDateField, BoundedDateFilter, BoundedDateTimeField, BoundedIsoDateTimeFilter

from . import matching, selectors, services
from .crypto import blind_index
from .matching import Person
from .models import (
    Case,
    CaseAgency,
    CaseTeamMember,
    CourtHearing,
    MissingEpisode,
    Note,
    Placement,
    Referral,
    SafetyAlert,
    Screening,
    ServiceReferral,
    Youth,
)
from .permissions import CaseAccess, CaseDataRole
from .throttles import ALLOWED, Budget, DuplicateSearchThrottle, DuplicateSearchThrottled, duplicate_search_take

Action = AuditEvent.Action


# --- plumbing ------------------------------------------------------------------------------------


def _audit_read(
    request: Request, action: str, object_type: str, object_id: Any, youth_id: int | None, **detail: Any
) -> None:
    audit_record(
        actor=request.user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        youth_id=youth_id,
        detail=detail,
    )


def _audit_rows(
    request: Request,
    object_type: str,
    rows: Iterable[Any],
    youth_of: Callable[[Any], int | None],
    *,
    empty: AuditEntry | None = None,
) -> None:
    """One audit event per object shown, in one INSERT; an empty page is recorded too."""
    entries = [AuditEntry(Action.LIST, object_type, row.pk, youth_of(row)) for row in rows]
    audit_record_many(
        actor=request.user,
        entries=entries or [empty or AuditEntry(Action.LIST, object_type, "", None, detail={"count": 0})],
    )


class CaseDataApi(generics.GenericAPIView):
    """Base of every case endpoint: case roles only (see CaseDataRole). A refused action is
    recorded in the audit log (as `audit_object_type`) by the shared exception handler."""

    permission_classes = [IsAuthenticatedWithMfa, CaseDataRole]
    pagination_class = None
    audit_object_type = ""

    def get_serializer_class(self) -> type[serializers.Serializer]:
        # Views without one list serializer (actions, details) still answer OPTIONS.
        return self.serializer_class or serializers.Serializer

    def _fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)

    def validated(
        self, serializer_class: type[serializers.Serializer], *, partial: bool = False, **context: Any
    ) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context={"request": self.request, **context}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class PaginatedApi(CaseDataApi):
    pagination_class = PageNumberPagination

    def youth_of(self, row: Any) -> int | None:
        return row.youth_id

    def empty_audit_entry(self, object_type: str) -> AuditEntry | None:
        return None

    def list_response(self, queryset: Any, *, object_type: str, context: dict | None = None) -> Response:
        page = self.paginate_queryset(queryset)
        _audit_rows(self.request, object_type, page, self.youth_of, empty=self.empty_audit_entry(object_type))
        data = self.get_serializer_class()(page, many=True, context={"request": self.request, **(context or {})}).data
        return self.get_paginated_response(data)


class AgencyCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Agency.objects.filter(is_active=True))
        super().__init__(**kwargs)


def _case_for(view: CaseDataApi) -> tuple[Case, CaseAccess]:
    case = selectors.case_get_visible(user=view.request.user, pk=view.kwargs["pk"])
    return case, selectors.case_access(user=view.request.user, case=case)


# --- youth ---------------------------------------------------------------------------------------


class ExternalIdSerializer(serializers.Serializer):
    agency = AgencyCodeField()
    kind = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    value = serializers.CharField(max_length=100)


class ExternalIdOutputSerializer(serializers.Serializer):
    agency = serializers.CharField(source="agency.code")
    kind = serializers.CharField()
    value = serializers.CharField()


def _check_dob(value: Any) -> Any:
    if value is not None and (value > timezone.localdate() or value < dt.date(1900, 1, 1)):
        raise serializers.ValidationError("Not a plausible date of birth.")
    return value


class YouthInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = BoundedDateField(required=False, allow_null=True, validators=[_check_dob])
    gender_identity = serializers.ChoiceField(choices=Youth.GenderIdentity.choices, required=False)
    gender_identity_detail = serializers.CharField(max_length=100, required=False, allow_blank=True)
    pronouns = serializers.CharField(max_length=50, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=50, required=False, allow_blank=True)
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), max_length=20, required=False)
    external_ids = ExternalIdSerializer(many=True, required=False, max_length=20)


class YouthDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    aliases = serializers.ListField(child=serializers.CharField())
    gender_identity = serializers.CharField()
    gender_identity_detail = serializers.CharField()
    pronouns = serializers.CharField()
    preferred_language = serializers.CharField()
    external_ids = ExternalIdOutputSerializer(many=True, source="external_ids.all")
    holding_agency = serializers.CharField(source="holding_agency.code")
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PossibleDuplicateSerializer(serializers.Serializer):
    youth = serializers.IntegerField(required=False, help_text="A candidate you may see.")
    score = serializers.FloatField(required=False, min_value=0, max_value=1)
    agency = serializers.CharField(required=False, help_text="An agency holding a candidate you may not see.")


def _duplicates(
    request: Request,
    person: Person,
    *,
    via: str,
    budget: Budget,
    exclude: Iterable[int] = (),
    hidden_also: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """Possible duplicates in the caller's form (SPEC §2), the search audited as a `search`
    event with a keyed hash of its values (never the values) and each candidate reported as a
    `list` event with the youth it concerns. Hidden candidates are reported only within the
    caller's search budget (`budget`, taken by the caller: the search endpoint's throttle, or a
    create); over it, a create still answers the candidates the caller may see."""
    found = selectors.youth_possible_duplicates(
        user=request.user, person=person, exclude_ids=exclude, report_hidden=budget.allowed, hidden_also=hidden_also
    )
    shown = [item for item in found if "youth" in item]
    search = AuditEntry(
        Action.SEARCH,
        "youth_match",
        "",
        None,
        detail={
            "query": matching.query_fingerprint(person),
            "via": via,
            "within_budget": budget.allowed,
            "candidates": len(shown),
            "agencies": len(found) - len(shown),
        },
    )
    entries = [search]
    out = []
    for item in found:
        if "youth" in item:
            entries.append(
                AuditEntry(Action.LIST, "youth_match", item["youth"], item["youth"], detail={"hidden": False})
            )
            out.append({"youth": item["youth"], "score": item["score"]})
        else:
            for youth_id in item["_youth_ids"]:
                entries.append(AuditEntry(Action.LIST, "youth_match", youth_id, youth_id, detail={"hidden": True}))
            out.append({"agency": item["agency"]})
    audit_record_many(actor=request.user, entries=entries)
    return out


def _youth_duplicates(
    request: Request, youth: Youth, *, via: str, budget: Budget, held_elsewhere: Iterable[int]
) -> list[dict[str, Any]]:
    """The possible duplicates of a youth record just written (created or its numbers edited):
    the record itself left out, the holders of numbers it was sent reported as hidden matches."""
    return _duplicates(
        request, _person_of(youth), via=via, budget=budget, exclude=[youth.pk], hidden_also=held_elsewhere
    )


def _external_ids_held_elsewhere(
    request: Request, youth_data: dict[str, Any] | None, budget: Budget
) -> tuple[dict[str, Any] | None, list[int]]:
    """SPEC §2: a create that sends an external id another youth record already holds answers,
    when the caller may not see that record, in the same shape as a hidden duplicate — its
    agency in `possible_duplicates`, the number left off the new record (the number stays the
    other record's; a merge after sharing brings them together) — never "that number is in use".
    A number the caller may see in use still answers the service's field message.

    The look-up is a search like any other: over the budget a create that sends external ids
    answers 429 before anything is looked up or written (a create without them still succeeds),
    so numbers cannot be tried faster than names and dates."""
    sent = list((youth_data or {}).get("external_ids") or ())
    if not sent:
        return youth_data, []
    if not budget.allowed:
        raise DuplicateSearchThrottled(
            budget.wait,
            detail="Too many duplicate searches for now: send the youth without external ids "
            "(add them later) or try again later.",
        )
    held = selectors.youth_ids_holding_external_ids(external_ids=[(item["agency"].pk, item["value"]) for item in sent])
    # Asked even when no number is held: a clash and no clash cost the same queries.
    visible = selectors.youth_ids_visible_among(user=request.user, ids=sorted({h for h in held if h is not None}))
    hidden = sorted({h for h in held if h is not None and h not in visible})
    if not hidden:
        return youth_data, []
    kept = [item for item, holder in zip(sent, held, strict=True) if holder is None or holder in visible]
    return {**(youth_data or {}), "external_ids": kept}, hidden


def _person_of(youth: Youth) -> Person:
    return Person(youth.first_name, youth.last_name, youth.date_of_birth, tuple(youth.aliases or ()))


class YouthFilter(django_filters.FilterSet):
    """Equality on the encrypted fields goes through their blind indexes only."""

    first_name = django_filters.CharFilter(method="filter_bidx", field_name="first_name_bidx")
    last_name = django_filters.CharFilter(method="filter_bidx", field_name="last_name_bidx")
    date_of_birth = BoundedDateFilter(method="filter_bidx", field_name="date_of_birth_bidx")
    include_merged = django_filters.BooleanFilter(method="filter_merged")

    class Meta:
        model = Youth
        fields: list[str] = []

    def filter_bidx(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.filter(**{name: blind_index(value)}) if value not in (None, "") else queryset

    def filter_merged(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset

    @property
    def qs(self) -> Any:
        qs = super().qs
        if not self.form.cleaned_data.get("include_merged"):
            qs = qs.filter(merged_into__isnull=True)
        return qs


class YouthListCreateApi(PaginatedApi):
    audit_object_type = "youth"
    filterset_class = YouthFilter

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        first_name = serializers.CharField()
        last_name = serializers.CharField()
        merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)

    class CreateOutputSerializer(YouthDetailSerializer):
        possible_duplicates = PossibleDuplicateSerializer(many=True)

    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return selectors.youth_list_visible_to(user=self.request.user).only(
            "id", "first_name", "last_name", "merged_into_id"
        )

    def youth_of(self, row: Any) -> int | None:
        return row.pk

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.list_response(self.filter_queryset(self.get_queryset()), object_type="youth")

    @extend_schema(request=YouthInputSerializer, responses={201: CreateOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.validated(YouthInputSerializer)
        # One search of the budget for the create (its duplicate report and its external ids).
        budget = duplicate_search_take(user=request.user)
        data, held_elsewhere = _external_ids_held_elsewhere(request, data, budget)
        youth = services.youth_create(actor=request.user, **data)
        youth = selectors.youth_get_visible(user=request.user, pk=youth.pk)
        body = dict(YouthDetailSerializer(youth).data)
        body["possible_duplicates"] = _youth_duplicates(
            request, youth, via="youth_create", budget=budget, held_elsewhere=held_elsewhere
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"ETag": etag_for(youth)})


class YouthDetailApi(CaseDataApi):
    audit_object_type = "youth"

    class InputSerializer(YouthInputSerializer):
        pass

    @extend_schema(responses={200: YouthDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        youth = selectors.youth_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "youth", youth.pk, youth.pk)
        return Response(YouthDetailSerializer(youth).data, headers={"ETag": etag_for(youth)})

    @extend_schema(
        request=InputSerializer,
        responses={200: YouthDetailSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        youth = selectors.youth_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer, partial=True)
        # External ids sent on an edit are looked up like a create's (SPEC §2): one search of the
        # budget, and a number a hidden record holds answers as a hidden duplicate, never "in
        # use" — or patching one record would test agency numbers without a limit.
        held_elsewhere: list[int] = []
        budget = None
        if data.get("external_ids"):
            budget = duplicate_search_take(user=request.user)
            data, held_elsewhere = _external_ids_held_elsewhere(request, data, budget)
        services.youth_update(youth=youth, actor=request.user, data=data, if_match=request.headers.get("If-Match"))
        youth = selectors.youth_get_visible(user=request.user, pk=pk)
        body = dict(YouthDetailSerializer(youth).data)
        if budget is not None:
            body["possible_duplicates"] = _youth_duplicates(
                request, youth, via="youth_update", budget=budget, held_elsewhere=held_elsewhere
            )
        return Response(body, headers={"ETag": etag_for(youth)})


class YouthMatchesApi(CaseDataApi):
    """Possible duplicates of a name and date of birth: candidates you may see with their score,
    and only the agency to ask about a candidate you may not see — reported only when its name
    and date of birth both agree strongly. Throttled per user (SPEC §2: by default 20 searches an
    hour and 100 a day, the creates' duplicate reports included), then 429."""

    audit_object_type = "youth_match"
    throttle_classes = [DuplicateSearchThrottle]

    class QuerySerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        date_of_birth = BoundedDateField(required=False, allow_null=True, default=None)
        alias = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

        def validate(self, attrs: dict) -> dict:
            if not (attrs["first_name"].strip() or attrs["last_name"].strip() or attrs["alias"].strip()):
                raise serializers.ValidationError({"first_name": ["Give a name (first, last or alias)."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        possible_duplicates = PossibleDuplicateSerializer(many=True)

    @extend_schema(parameters=[QuerySerializer], responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        person = Person(q["first_name"], q["last_name"], q["date_of_birth"], (q["alias"],) if q["alias"] else ())
        # The throttle already took this search from the budget.
        return Response({"possible_duplicates": _duplicates(request, person, via="matches", budget=ALLOWED)})

    def throttled(self, request: Request, wait: float | None) -> None:
        # A refused search is recorded too (the auditor's "bursts of duplicate searches", SPEC
        # §9), without its query: nothing of it was looked up.
        audit_record(
            actor=request.user,
            action=Action.SEARCH,
            object_type="youth_match",
            outcome=AuditEvent.Outcome.DENIED,
            detail={"via": "matches", "within_budget": False},
        )
        raise DuplicateSearchThrottled(wait)


class YouthMergeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField(source="source_id")
    target = serializers.IntegerField(source="target_id")
    merged_by = serializers.IntegerField(source="merged_by_id")
    merged_at = serializers.DateTimeField()
    unmerged_at = serializers.DateTimeField(allow_null=True)


class YouthMergeApi(CaseDataApi):
    """Merge this (duplicate) youth record into `into` (supervisors; reversible)."""

    audit_object_type = "youth"

    class InputSerializer(serializers.Serializer):
        into = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: YouthMergeOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        source = selectors.youth_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer)
        target = selectors.youth_list_visible_to(user=request.user).filter(pk=data["into"]).first()
        if target is None:
            raise ApplicationError("Unknown youth.", fields={"into": ["Not found."]})
        merge = services.youth_merge(source=source, target=target, actor=request.user)
        return Response(YouthMergeOutputSerializer(merge).data)


class YouthUnmergeApi(CaseDataApi):
    audit_object_type = "youth"

    @extend_schema(request=None, responses={200: YouthMergeOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        # Not looked up here: a merged record may be reached through the record it was merged
        # into, and the service decides (404 / 403) with the same selectors.
        merge = services.youth_unmerge(source=Youth(pk=pk), actor=request.user)
        return Response(YouthMergeOutputSerializer(merge).data)


# --- referrals -----------------------------------------------------------------------------------

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
            youth = selectors.youth_list_visible_to(user=request.user).filter(pk=pk).first()
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


_CLOCK_FIELDS = services.REFERRAL_CLOCK_FIELDS


def _clock_field() -> BoundedDateTimeField:
    return BoundedDateTimeField(required=False, allow_null=True)


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
        return services.suggested_level(indicators=obj.indicators, source=obj.source)


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
        return selectors.referral_list_visible_to(user=self.request.user)

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
        referral = services.referral_create(actor=request.user, youth=ref.get("existing"), youth_data=new_youth, **data)
        referral = selectors.referral_get_visible(user=request.user, pk=referral.pk)
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


class ReferralDetailApi(CaseDataApi):
    audit_object_type = "referral"

    class InputSerializer(serializers.Serializer):
        received_at = BoundedDateTimeField(required=False)
        source = serializers.ChoiceField(choices=Referral.Source.choices, required=False)
        indicators = serializers.ListField(child=serializers.SlugField(max_length=64), max_length=30, required=False)
        narrative = serializers.CharField(max_length=20000, required=False, allow_blank=True)
        hotline_reported_at = _clock_field()
        written_report_submitted_at = _clock_field()
        recovered_at = _clock_field()
        responder_arrived_at = _clock_field()
        law_enforcement_notified_at = _clock_field()

    @extend_schema(responses={200: ReferralDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        referral = selectors.referral_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "referral", referral.pk, referral.youth_id)
        return Response(ReferralDetailSerializer(referral).data, headers={"ETag": etag_for(referral)})

    @extend_schema(
        request=InputSerializer,
        responses={200: ReferralDetailSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        referral = selectors.referral_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer, partial=True)
        services.referral_update(
            referral=referral, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        referral = selectors.referral_get_visible(user=request.user, pk=pk)
        return Response(ReferralDetailSerializer(referral).data, headers={"ETag": etag_for(referral)})


class ReferralActionApi(CaseDataApi):
    audit_object_type = "referral"

    def referral(self) -> Referral:
        return selectors.referral_get_visible(user=self.request.user, pk=self.kwargs["pk"])

    def done(self) -> Response:
        referral = selectors.referral_get_visible(user=self.request.user, pk=self.kwargs["pk"])
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
        services.referral_screen(referral=referral, actor=request.user, **data)
        return self.done()


class ReferralAcceptApi(ReferralActionApi):
    @extend_schema(request=None, responses={200: ReferralDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        services.referral_accept(referral=self.referral(), actor=request.user)
        return self.done()


class ReferralDeclineApi(ReferralActionApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: ReferralDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        referral = self.referral()
        data = self.validated(self.InputSerializer)
        services.referral_decline(referral=referral, actor=request.user, reason=data["reason"])
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
            original = selectors.referral_list_visible_to(user=request.user).filter(pk=data["duplicate_of"]).first()
            if original is None:
                raise ApplicationError("Unknown referral.", fields={"duplicate_of": ["Not found."]})
        services.referral_mark_duplicate(referral=referral, actor=request.user, duplicate_of=original)
        return self.done()


# --- cases ---------------------------------------------------------------------------------------


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Case.Status.choices)
    court = django_filters.ChoiceFilter(choices=Case.Court.choices)
    csec_status = django_filters.ChoiceFilter(choices=Case.CsecStatus.choices)
    lead_agency = django_filters.CharFilter(field_name="lead_agency__code")
    youth = django_filters.NumberFilter(field_name="youth_id")
    number = django_filters.CharFilter(field_name="number")

    class Meta:
        model = Case
        fields: list[str] = []


class AlertSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    summary = serializers.CharField()


class CaseDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    youth = serializers.IntegerField(source="youth_id")
    lead_agency = serializers.CharField(source="lead_agency.code")
    status = serializers.CharField()
    close_reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    court = serializers.CharField()
    csec_status = serializers.CharField()
    alerts = serializers.SerializerMethodField()
    referrals = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(AlertSummarySerializer(many=True))
    def get_alerts(self, obj: Case) -> list:
        return AlertSummarySerializer(selectors.safety_alert_list(case=obj, active_only=True), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_referrals(self, obj: Case) -> list[int]:
        return selectors.case_referral_ids(case=obj)


class CaseListApi(PaginatedApi):
    audit_object_type = "case"
    filterset_class = CaseFilter

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        youth = serializers.IntegerField(source="youth_id")
        lead_agency = serializers.CharField(source="lead_agency.code")
        status = serializers.CharField()
        court = serializers.CharField()
        csec_status = serializers.CharField()
        created_at = serializers.DateTimeField()

    serializer_class = OutputSerializer

    def get_queryset(self) -> Any:
        return selectors.case_list_visible_to(user=self.request.user)

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return self.list_response(self.filter_queryset(self.get_queryset()), object_type="case")


class CaseDetailApi(CaseDataApi):
    audit_object_type = "case"

    class InputSerializer(serializers.Serializer):
        court = serializers.ChoiceField(
            choices=[("", "None"), *Case.Court.choices], required=False, allow_blank=True, allow_null=True
        )
        csec_status = serializers.ChoiceField(choices=Case.CsecStatus.choices, required=False)

        def validate_court(self, value: str | None) -> str:
            return value or ""  # null and "" both clear the court

    @extend_schema(responses={200: CaseDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        case, _ = _case_for(self)
        _audit_read(request, Action.VIEW, "case", case.pk, case.youth_id)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": etag_for(case)})

    @extend_schema(
        request=InputSerializer,
        responses={200: CaseDetailSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        case, _ = _case_for(self)
        data = self.validated(self.InputSerializer, partial=True)
        services.case_update(case=case, actor=request.user, data=data, if_match=request.headers.get("If-Match"))
        case, _ = _case_for(self)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": etag_for(case)})


class CaseCloseApi(CaseDataApi):
    audit_object_type = "case"

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: CaseDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        case, _ = _case_for(self)
        data = self.validated(self.InputSerializer)
        services.case_close(case=case, actor=request.user, reason=data["reason"])
        case, _ = _case_for(self)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": etag_for(case)})


class CasePartListApi(PaginatedApi):
    """GET (list) / POST (create) of one kind of part of a visible case."""

    part_model: type = Case

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.case, self.access = _case_for(self)

    def youth_of(self, row: Any) -> int | None:
        return self.case.youth_id

    def empty_audit_entry(self, object_type: str) -> AuditEntry | None:
        # An empty list of a case's parts is still a read of that case.
        return AuditEntry(Action.LIST, object_type, "", self.case.youth_id, detail={"case": self.case.pk, "count": 0})

    def get_queryset(self) -> Any:
        if self._fake():
            return self.part_model.objects.none()
        return self.part_queryset()

    def part_queryset(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "access": getattr(self, "access", None)}

    def list_parts(self) -> Response:
        return self.list_response(
            self.get_queryset(), object_type=self.audit_object_type, context={"access": self.access}
        )

    def created(self, obj: Any) -> Response:
        data = self.get_serializer_class()(obj, context={"request": self.request, "access": self.access}).data
        return Response(data, status=status.HTTP_201_CREATED)


# team


class TeamMemberOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    name = serializers.SerializerMethodField()
    agency = serializers.CharField(source="user.agency.code", allow_null=True)
    role = serializers.CharField(source="case_role")
    added_by = serializers.IntegerField(source="added_by_id")
    added_at = serializers.DateTimeField()
    removed_at = serializers.DateTimeField(allow_null=True)

    def get_name(self, obj: CaseTeamMember) -> str:
        return obj.user.get_full_name()


class CaseTeamApi(CasePartListApi):
    audit_object_type = "case_team_member"
    part_model = CaseTeamMember
    serializer_class = TeamMemberOutputSerializer

    class InputSerializer(serializers.Serializer):
        user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
        role = serializers.CharField(max_length=50)

    def part_queryset(self) -> Any:
        return selectors.case_team_list(case=self.case)

    @extend_schema(responses={200: TeamMemberOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: TeamMemberOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        member = services.case_team_member_add(
            case=self.case, actor=request.user, user=data["user"], case_role=data["role"]
        )
        return self.created(member)


class CaseTeamMemberApi(CaseDataApi):
    audit_object_type = "case_team_member"

    @extend_schema(request=None, responses={200: TeamMemberOutputSerializer})
    def delete(self, request: Request, pk: int, member_id: int) -> Response:
        case, _ = _case_for(self)
        member = selectors.case_team_list(case=case).filter(pk=member_id).first()
        if member is None:
            raise exceptions.NotFound()
        member = services.case_team_member_remove(member=member, actor=request.user)
        return Response(TeamMemberOutputSerializer(member).data)


# participating agencies


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
        return selectors.case_agency_list(case=self.case)

    @extend_schema(responses={200: CaseAgencyOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: CaseAgencyOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        participation = services.case_agency_grant(case=self.case, actor=request.user, **data)
        return self.created(participation)


class CaseAgencyRenewApi(CaseDataApi):
    """Renew a participation (WIC 18961.7: with a recorded good cause; 30 days at most)."""

    audit_object_type = "case_agency"

    class InputSerializer(serializers.Serializer):
        good_cause = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        expires_at = BoundedDateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: CaseAgencyOutputSerializer})
    def post(self, request: Request, pk: int, agency_code: str) -> Response:
        case, _ = _case_for(self)
        participation = selectors.case_agency_get(case=case, agency_code=agency_code)
        data = self.validated(self.InputSerializer)
        participation = services.case_agency_renew(participation=participation, actor=request.user, **data)
        return Response(CaseAgencyOutputSerializer(participation).data)


class CaseAgencyRevokeApi(CaseDataApi):
    audit_object_type = "case_agency"

    @extend_schema(request=None, responses={200: CaseAgencyOutputSerializer})
    def post(self, request: Request, pk: int, agency_code: str) -> Response:
        case, _ = _case_for(self)
        participation = selectors.case_agency_get(case=case, agency_code=agency_code)
        participation = services.case_agency_revoke(participation=participation, actor=request.user)
        return Response(CaseAgencyOutputSerializer(participation).data)


# notes


class NoteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.IntegerField(source="author_id")
    author_agency = serializers.CharField(source="author_agency.code")
    visibility = serializers.CharField()
    body = serializers.CharField()
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)
    created_at = serializers.DateTimeField()


class CaseNotesApi(CasePartListApi):
    """Notes you may read (team / your agency's / clinical for DMH). Append-only: a correction
    is a new note with `corrects`."""

    audit_object_type = "note"
    part_model = Note
    serializer_class = NoteOutputSerializer

    class InputSerializer(serializers.Serializer):
        body = serializers.CharField(max_length=20000)
        visibility = serializers.ChoiceField(choices=Note.Visibility.choices)
        corrects = serializers.IntegerField(required=False, allow_null=True)

    def part_queryset(self) -> Any:
        return selectors.note_list_visible_to(user=self.request.user, case=self.case).select_related("author_agency")

    @extend_schema(responses={200: NoteOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: NoteOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        corrects = None
        if data.get("corrects") is not None:
            corrects = (
                selectors.note_list_visible_to(user=request.user, case=self.case).filter(pk=data["corrects"]).first()
            )
            if corrects is None:
                raise ApplicationError("Unknown note.", fields={"corrects": ["Not found."]})
        note = services.case_note_add(
            case=self.case,
            actor=request.user,
            body=data["body"],
            visibility=data["visibility"],
            corrects=corrects,
        )
        return self.created(note)


class CaseNoteDetailApi(CaseDataApi):
    audit_object_type = "note"

    @extend_schema(responses={200: NoteOutputSerializer})
    def get(self, request: Request, pk: int, note_id: int) -> Response:
        case, _ = _case_for(self)
        note = selectors.note_get_visible(user=request.user, case=case, pk=note_id)
        _audit_read(request, Action.VIEW, "note", note.pk, case.youth_id)
        return Response(NoteOutputSerializer(note).data)


# missing episodes


class MissingEpisodeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    missing_since = serializers.DateTimeField()
    learned_at = serializers.DateTimeField()
    reported_to_law_enforcement_at = serializers.DateTimeField(allow_null=True)
    ncic_number = serializers.CharField()
    reported_to_ncmec_at = serializers.DateTimeField(allow_null=True)
    attorney_notified_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    return_debrief_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MissingEpisodeInputSerializer(serializers.Serializer):
    missing_since = BoundedDateTimeField()
    learned_at = BoundedDateTimeField()
    reported_to_law_enforcement_at = _clock_field()
    ncic_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    reported_to_ncmec_at = _clock_field()
    attorney_notified_at = _clock_field()
    returned_at = _clock_field()
    return_debrief_at = _clock_field()


class CaseMissingEpisodesApi(CasePartListApi):
    audit_object_type = "missing_episode"
    part_model = MissingEpisode
    serializer_class = MissingEpisodeOutputSerializer

    def part_queryset(self) -> Any:
        return selectors.missing_episode_list(case=self.case)

    @extend_schema(responses={200: MissingEpisodeOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=MissingEpisodeInputSerializer, responses={201: MissingEpisodeOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(MissingEpisodeInputSerializer)
        episode = services.missing_episode_create(case=self.case, actor=request.user, **data)
        return self.created(episode)


class MissingEpisodeDetailApi(CaseDataApi):
    audit_object_type = "missing_episode"

    class InputSerializer(MissingEpisodeInputSerializer):
        pass

    @extend_schema(responses={200: MissingEpisodeOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        episode = selectors.missing_episode_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "missing_episode", episode.pk, episode.case.youth_id)
        return Response(MissingEpisodeOutputSerializer(episode).data, headers={"ETag": etag_for(episode)})

    @extend_schema(
        request=InputSerializer,
        responses={200: MissingEpisodeOutputSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        episode = selectors.missing_episode_get_visible(user=request.user, pk=pk)
        data = self.validated(self.InputSerializer, partial=True)
        episode = services.missing_episode_update(
            episode=episode, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return Response(MissingEpisodeOutputSerializer(episode).data, headers={"ETag": etag_for(episode)})


# placements


class PlacementOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    placement_type = serializers.CharField()
    csec_specialized = serializers.BooleanField()
    address = serializers.SerializerMethodField(help_text="Only for the lead agency's case team; null otherwise.")
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()

    def get_address(self, obj: Placement) -> str | None:
        access = self.context.get("access")
        return obj.address if access is not None and access.can_see_protected else None


class CasePlacementsApi(CasePartListApi):
    audit_object_type = "placement"
    part_model = Placement
    serializer_class = PlacementOutputSerializer

    class InputSerializer(serializers.Serializer):
        placement_type = serializers.ChoiceField(choices=Placement.PlacementType.choices)
        csec_specialized = serializers.BooleanField(required=False, default=False)
        address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        start_date = BoundedDateField()
        end_date = BoundedDateField(required=False, allow_null=True)

    def part_queryset(self) -> Any:
        return selectors.placement_list(case=self.case)

    @extend_schema(responses={200: PlacementOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: PlacementOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        placement = services.placement_create(case=self.case, actor=request.user, **data)
        return self.created(placement)


# services


class ServiceReferralOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provider = serializers.CharField()
    service_type = serializers.CharField()
    evidence_based_practice = serializers.CharField()
    is_health_exam = serializers.BooleanField()
    status = serializers.CharField()
    referred_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id")


class CaseServicesApi(CasePartListApi):
    audit_object_type = "service_referral"
    part_model = ServiceReferral
    serializer_class = ServiceReferralOutputSerializer

    class InputSerializer(serializers.Serializer):
        provider = serializers.CharField(max_length=200)
        service_type = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
        evidence_based_practice = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        is_health_exam = serializers.BooleanField(required=False, default=False)
        status = serializers.ChoiceField(
            choices=ServiceReferral.Status.choices, required=False, default=ServiceReferral.Status.REFERRED
        )
        referred_at = BoundedDateTimeField()
        started_at = BoundedDateTimeField(required=False, allow_null=True)
        ended_at = BoundedDateTimeField(required=False, allow_null=True)

    def part_queryset(self) -> Any:
        return selectors.service_referral_list(case=self.case)

    @extend_schema(responses={200: ServiceReferralOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: ServiceReferralOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        service = services.service_referral_create(case=self.case, actor=request.user, **data)
        return self.created(service)


# hearings


class CourtHearingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    court = serializers.CharField()
    hearing_type = serializers.CharField()
    created_by = serializers.IntegerField(source="created_by_id")


class CaseHearingsApi(CasePartListApi):
    audit_object_type = "court_hearing"
    part_model = CourtHearing
    serializer_class = CourtHearingOutputSerializer

    class InputSerializer(serializers.Serializer):
        starts_at = BoundedDateTimeField()
        court = serializers.ChoiceField(
            choices=[("", "None"), *Case.Court.choices], required=False, allow_blank=True, default=""
        )
        hearing_type = serializers.CharField(max_length=100)

    def part_queryset(self) -> Any:
        return selectors.court_hearing_list(case=self.case)

    @extend_schema(responses={200: CourtHearingOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: CourtHearingOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        hearing = services.court_hearing_create(case=self.case, actor=request.user, **data)
        return self.created(hearing)


# alerts


class SafetyAlertOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    protected_detail = serializers.SerializerMethodField(
        help_text="Only for the lead agency's case team; null otherwise."
    )
    is_active = serializers.BooleanField()
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()

    def get_protected_detail(self, obj: SafetyAlert) -> str | None:
        access = self.context.get("access")
        return obj.protected_detail if access is not None and access.can_see_protected else None


class CaseAlertsApi(CasePartListApi):
    audit_object_type = "safety_alert"
    part_model = SafetyAlert
    serializer_class = SafetyAlertOutputSerializer

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=SafetyAlert.Kind.choices)
        summary = serializers.CharField(max_length=200)
        protected_detail = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)

    def part_queryset(self) -> Any:
        return selectors.safety_alert_list(case=self.case)

    @extend_schema(responses={200: SafetyAlertOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: SafetyAlertOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        alert = services.safety_alert_create(case=self.case, actor=request.user, **data)
        return self.created(alert)


# timeline and history


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()
    actor = serializers.IntegerField(allow_null=True)
    detail = serializers.DictField()


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(allow_null=True)
    object_type = serializers.CharField()
    object_id = serializers.IntegerField()
    change = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    fields = serializers.DictField()


class _CaseStreamApi(PaginatedApi):
    stream: Callable[..., list[dict[str, Any]]]

    def get_queryset(self) -> Any:
        return Case.objects.none()

    def stream_response(self) -> Response:
        case, _ = _case_for(self)
        items = type(self).stream(user=self.request.user, case=case)
        page = self.paginate_queryset(items)
        _audit_read(self.request, Action.VIEW, self.audit_object_type, case.pk, case.youth_id)
        return self.get_paginated_response(self.get_serializer_class()(page, many=True).data)


class CaseTimelineApi(_CaseStreamApi):
    """The case's events in time order (oldest first), filtered like every other read."""

    audit_object_type = "case_timeline"
    serializer_class = TimelineItemSerializer
    stream = staticmethod(selectors.case_timeline)

    @extend_schema(responses={200: TimelineItemSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.stream_response()


class CaseHistoryApi(_CaseStreamApi):
    """Every recorded change to the case and its parts, oldest first."""

    audit_object_type = "case_history"
    serializer_class = HistoryEntrySerializer
    stream = staticmethod(selectors.case_history)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.stream_response()
