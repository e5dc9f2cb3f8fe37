"""The parts of a case (SPEC §2, §6), each listed and added under `/api/v1/cases/{id}/…`:
notes (append-only; by visibility), missing episodes (also read and edited by their own id),
placements, service referrals, court hearings and safety alerts — protected details only for
the lead agency's case team."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from audit.models import AuditEvent
from core.errors import ApplicationError
from core.etags import etag_for
from core.times import BoundedDateField, BoundedDateTimeField

from ..models import Case, CourtHearing, MissingEpisode, Note, Placement, SafetyAlert, Screening, ServiceReferral
from ..selectors import parts as part_selectors
from ..selectors import visibility
from ..services import parts as part_services
from .base import CaseDataApi, CasePartListApi, _audit_read, _case_for
from .fields import _clock_field

Action = AuditEvent.Action


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
        return visibility.note_list_visible_to(user=self.request.user, case=self.case).select_related("author_agency")

    @extend_schema(responses={200: NoteOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: NoteOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        corrects = None
        if data.get("corrects") is not None:
            corrects = (
                visibility.note_list_visible_to(user=request.user, case=self.case).filter(pk=data["corrects"]).first()
            )
            if corrects is None:
                raise ApplicationError("Unknown note.", fields={"corrects": ["Not found."]})
        note = part_services.case_note_add(
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
        note = visibility.note_get_visible(user=request.user, case=case, pk=note_id)
        _audit_read(request, Action.VIEW, "note", note.pk, case.youth_id)
        return Response(NoteOutputSerializer(note).data)


# missing episodes


class ReturnScreeningSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    level = serializers.CharField()
    instrument = serializers.CharField()
    instrument_version = serializers.CharField()
    screened_by = serializers.IntegerField(source="screened_by_id")
    screened_at = serializers.DateTimeField()


class MissingEpisodeOutputSerializer(serializers.Serializer):
    """The episode and its return debrief. Whoever may read the episode reads the debrief: the
    narrative parts follow the `team` note rule (everyone who may see the case, never MDT
    members, who reach no case part)."""

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
    debriefed_by = serializers.IntegerField(source="debriefed_by_id", allow_null=True)
    absence_factors = serializers.CharField()
    experiences_while_absent = serializers.CharField()
    exploited_while_absent = serializers.CharField()
    return_screening = ReturnScreeningSerializer(allow_null=True)
    debrief_missing = serializers.ListField(
        child=serializers.CharField(),
        help_text="The parts of the return debrief still to record; empty once it is recorded as a whole.",
    )
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReturnScreeningInputSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Screening.Level.choices)
    instrument = serializers.CharField(max_length=100)
    instrument_version = serializers.CharField(max_length=30, required=False, allow_blank=True)
    screened_at = BoundedDateTimeField(required=False)


class MissingEpisodeInputSerializer(serializers.Serializer):
    missing_since = BoundedDateTimeField()
    learned_at = BoundedDateTimeField()
    reported_to_law_enforcement_at = _clock_field()
    ncic_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    reported_to_ncmec_at = _clock_field()
    attorney_notified_at = _clock_field()
    returned_at = _clock_field()
    # The return debrief of WIC 16501.35 (SPEC §2): its clock is met once every part is in.
    return_debrief_at = _clock_field()
    debriefed_by = serializers.IntegerField(
        required=False, allow_null=True, help_text="The user who held the debrief (default: who records it)."
    )
    absence_factors = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    experiences_while_absent = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    exploited_while_absent = serializers.ChoiceField(
        choices=MissingEpisode.Exploited.choices, required=False, allow_blank=True
    )
    return_screening = ReturnScreeningInputSerializer(required=False)


def _episode_input(data: dict[str, Any]) -> dict[str, Any]:
    """The debriefer's id as a user: an unknown id answers as one who does not work the case."""
    if data.get("debriefed_by") is not None:
        user = User.objects.filter(pk=data["debriefed_by"]).first()
        if user is None:
            raise ApplicationError(
                "Send the id of the person who held the debrief: someone who works this case.",
                fields={"debriefed_by": ["Not a person who works this case."]},
            )
        data["debriefed_by"] = user
    return data


class CaseMissingEpisodesApi(CasePartListApi):
    audit_object_type = "missing_episode"
    part_model = MissingEpisode
    serializer_class = MissingEpisodeOutputSerializer

    def part_queryset(self) -> Any:
        return part_selectors.missing_episode_list(case=self.case)

    @extend_schema(responses={200: MissingEpisodeOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=MissingEpisodeInputSerializer, responses={201: MissingEpisodeOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _episode_input(self.validated(MissingEpisodeInputSerializer))
        episode = part_services.missing_episode_create(case=self.case, actor=request.user, **data)
        return self.created(episode)


class MissingEpisodeDetailApi(CaseDataApi):
    audit_object_type = "missing_episode"

    class InputSerializer(MissingEpisodeInputSerializer):
        pass

    @extend_schema(responses={200: MissingEpisodeOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        episode = visibility.missing_episode_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "missing_episode", episode.pk, episode.case.youth_id)
        return Response(MissingEpisodeOutputSerializer(episode).data, headers={"ETag": etag_for(episode)})

    @extend_schema(
        request=InputSerializer,
        responses={200: MissingEpisodeOutputSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: Request, pk: int) -> Response:
        episode = visibility.missing_episode_get_visible(user=request.user, pk=pk)
        data = _episode_input(self.validated(self.InputSerializer, partial=True))
        episode = part_services.missing_episode_update(
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
        return part_selectors.placement_list(case=self.case)

    @extend_schema(responses={200: PlacementOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: PlacementOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        placement = part_services.placement_create(case=self.case, actor=request.user, **data)
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
        return part_selectors.service_referral_list(case=self.case)

    @extend_schema(responses={200: ServiceReferralOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: ServiceReferralOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        service = part_services.service_referral_create(case=self.case, actor=request.user, **data)
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
        return part_selectors.court_hearing_list(case=self.case)

    @extend_schema(responses={200: CourtHearingOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: CourtHearingOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        hearing = part_services.court_hearing_create(case=self.case, actor=request.user, **data)
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
        return part_selectors.safety_alert_list(case=self.case)

    @extend_schema(responses={200: SafetyAlertOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: SafetyAlertOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        alert = part_services.safety_alert_create(case=self.case, actor=request.user, **data)
        return self.created(alert)
