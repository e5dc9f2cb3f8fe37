"""The parts of a case (SPEC §2, §6), each listed and added under `/api/v1/cases/{id}/…`:
notes (append-only; by visibility), missing episodes, placements, service referrals, court
hearings and safety alerts — these also read and changed by their own id (a placement ended,
a service moved on, a hearing rescheduled, cancelled or held, an alert resolved). Protected
details only for the lead agency's case team; mental-health services only for the readers of
clinical notes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.http import AuthedRequest
from accounts.models import User
from audit.models import AuditEvent
from core.errors import ApplicationError
from core.etags import etag_for
from core.times import BoundedDateField, BoundedDateTimeField

from ..models import Case, CourtHearing, MissingEpisode, Note, Placement, SafetyAlert, Screening, ServiceReferral
from ..selectors import parts as part_selectors
from ..selectors import visibility
from ..services import court_hearings as hearing_services
from ..services import missing_episodes as episode_services
from ..services import notes as note_services
from ..services import placements as placement_services
from ..services import safety_alerts as alert_services
from ..services import service_referrals as service_referral_services
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
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: NoteOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        corrects = None
        if data.get("corrects") is not None:
            corrects = (
                visibility.note_list_visible_to(user=request.user, case=self.case).filter(pk=data["corrects"]).first()
            )
            if corrects is None:
                raise ApplicationError("Unknown note.", fields={"corrects": ["Not found."]})
        note = note_services.case_note_add(
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
    def get(self, request: AuthedRequest, pk: int, note_id: int) -> Response:
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
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=MissingEpisodeInputSerializer, responses={201: MissingEpisodeOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = _episode_input(self.validated(MissingEpisodeInputSerializer))
        episode = episode_services.missing_episode_create(case=self.case, actor=request.user, **data)
        return self.created(episode)


class MissingEpisodeDetailApi(CaseDataApi):
    audit_object_type = "missing_episode"

    class InputSerializer(MissingEpisodeInputSerializer):
        pass

    @extend_schema(responses={200: MissingEpisodeOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        episode = visibility.missing_episode_get_visible(user=request.user, pk=pk)
        _audit_read(request, Action.VIEW, "missing_episode", episode.pk, episode.case.youth_id)
        return Response(MissingEpisodeOutputSerializer(episode).data, headers={"ETag": etag_for(episode)})

    @extend_schema(
        request=InputSerializer,
        responses={200: MissingEpisodeOutputSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        episode = visibility.missing_episode_get_visible(user=request.user, pk=pk)
        data = _episode_input(self.validated(self.InputSerializer, partial=True))
        episode = episode_services.missing_episode_update(
            episode=episode, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return Response(MissingEpisodeOutputSerializer(episode).data, headers={"ETag": etag_for(episode)})


# placements, services, hearings and alerts: listed and added under their case, read and
# changed by their own id (an ETag on each detail; a PATCH with a stale If-Match answers 412)

_IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)


class _PartDetailApi(CaseDataApi):
    """GET / PATCH of one part by its id: 404 unless the caller sees its case (and, for a
    mental-health service, reads clinical notes). The protected fields follow `case_access`."""

    output_serializer: type[serializers.Serializer] = serializers.Serializer

    def part_get(self, pk: int) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def respond(self, obj: Any) -> Response:
        access = visibility.case_access(user=self.request.user, case=obj.case)
        data = self.output_serializer(obj, context={"request": self.request, "access": access}).data
        return Response(data, headers={"ETag": etag_for(obj)})

    def read(self, pk: int) -> Response:
        obj = self.part_get(pk)
        _audit_read(self.request, Action.VIEW, self.audit_object_type, obj.pk, obj.case.youth_id)
        return self.respond(obj)


class PlacementOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    placement_type = serializers.CharField()
    csec_specialized = serializers.BooleanField()
    address = serializers.SerializerMethodField(help_text="Only for the lead agency's case team; null otherwise.")
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField(help_text='Why it ended; "new placement" when a new placement ended it.')
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_address(self, obj: Placement) -> str | None:
        access = self.context.get("access")
        return obj.address if access is not None and access.can_see_protected else None


class CasePlacementsApi(CasePartListApi):
    """A new current placement (no end_date) ends the current one on its start date."""

    audit_object_type = "placement"
    part_model = Placement
    serializer_class = PlacementOutputSerializer

    class InputSerializer(serializers.Serializer):
        placement_type = serializers.ChoiceField(choices=Placement.PlacementType.choices)
        csec_specialized = serializers.BooleanField(required=False, default=False)
        address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        start_date = BoundedDateField()
        end_date = BoundedDateField(required=False, allow_null=True)
        end_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def part_queryset(self) -> Any:
        return part_selectors.placement_list(case=self.case)

    @extend_schema(responses={200: PlacementOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: PlacementOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        placement = placement_services.placement_create(case=self.case, actor=request.user, **data)
        return self.created(placement)


class PlacementDetailApi(_PartDetailApi):
    audit_object_type = "placement"
    output_serializer = PlacementOutputSerializer

    class InputSerializer(serializers.Serializer):
        end_date = BoundedDateField(allow_null=True)
        end_reason = serializers.CharField(max_length=500, allow_blank=True)

    def part_get(self, pk: int) -> Placement:
        return part_selectors.placement_get_visible(user=self.request.user, pk=pk)

    @extend_schema(responses={200: PlacementOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.read(pk)

    @extend_schema(request=InputSerializer, responses={200: PlacementOutputSerializer}, parameters=[_IF_MATCH])
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        placement = self.part_get(pk)
        data = self.validated(self.InputSerializer, partial=True)
        placement = placement_services.placement_update(
            placement=placement, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return self.respond(placement)


# services


class ServiceReferralOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    provider = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=ServiceReferral.Kind.choices,
        help_text="mental_health is clinical information (WIC 5328): shown only to those who read clinical notes.",
    )
    service_type = serializers.CharField()
    evidence_based_practice = serializers.CharField()
    is_health_exam = serializers.BooleanField()
    status = serializers.ChoiceField(choices=ServiceReferral.Status.choices)
    status_reason = serializers.CharField()
    referred_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id")
    updated_at = serializers.DateTimeField()


class CaseServicesApi(CasePartListApi):
    """Mental-health services are listed only for those who read clinical notes."""

    audit_object_type = "service_referral"
    part_model = ServiceReferral
    serializer_class = ServiceReferralOutputSerializer

    class InputSerializer(serializers.Serializer):
        provider = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(
            choices=ServiceReferral.Kind.choices, required=False, default=ServiceReferral.Kind.OTHER
        )
        service_type = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
        evidence_based_practice = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        is_health_exam = serializers.BooleanField(required=False, default=False)
        status = serializers.ChoiceField(
            choices=ServiceReferral.Status.choices, required=False, default=ServiceReferral.Status.REFERRED
        )
        status_reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        referred_at = BoundedDateTimeField()
        accepted_at = BoundedDateTimeField(required=False, allow_null=True)
        started_at = BoundedDateTimeField(required=False, allow_null=True)
        ended_at = BoundedDateTimeField(required=False, allow_null=True)

    def part_queryset(self) -> Any:
        return part_selectors.service_referral_list(user=self.request.user, case=self.case)

    @extend_schema(responses={200: ServiceReferralOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: ServiceReferralOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        service = service_referral_services.service_referral_create(case=self.case, actor=request.user, **data)
        return self.created(service)


class ServiceReferralDetailApi(_PartDetailApi):
    audit_object_type = "service_referral"
    output_serializer = ServiceReferralOutputSerializer

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ServiceReferral.Status.choices)
        status_reason = serializers.CharField(max_length=500, allow_blank=True)
        accepted_at = BoundedDateTimeField(allow_null=True)
        started_at = BoundedDateTimeField(allow_null=True)
        ended_at = BoundedDateTimeField(allow_null=True)

    def part_get(self, pk: int) -> ServiceReferral:
        return part_selectors.service_referral_get_visible(user=self.request.user, pk=pk)

    @extend_schema(responses={200: ServiceReferralOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.read(pk)

    @extend_schema(request=InputSerializer, responses={200: ServiceReferralOutputSerializer}, parameters=[_IF_MATCH])
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        service = self.part_get(pk)
        data = self.validated(self.InputSerializer, partial=True)
        service = service_referral_services.service_referral_update(
            service=service, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return self.respond(service)


# hearings


class CourtHearingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    starts_at = serializers.DateTimeField()
    court = serializers.CharField()
    hearing_type = serializers.CharField()
    status = serializers.ChoiceField(choices=CourtHearing.Status.choices)
    reason = serializers.CharField(help_text="Why it was last rescheduled or cancelled.")
    outcome = serializers.CharField(help_text="What the court decided, once held.")
    created_by = serializers.IntegerField(source="created_by_id")
    updated_at = serializers.DateTimeField()


_COURT_CHOICES = [("", "None"), *Case.Court.choices]


class CaseHearingsApi(CasePartListApi):
    audit_object_type = "court_hearing"
    part_model = CourtHearing
    serializer_class = CourtHearingOutputSerializer

    class InputSerializer(serializers.Serializer):
        starts_at = BoundedDateTimeField()
        court = serializers.ChoiceField(choices=_COURT_CHOICES, required=False, allow_blank=True, default="")
        hearing_type = serializers.CharField(max_length=100)

    def part_queryset(self) -> Any:
        return part_selectors.court_hearing_list(case=self.case)

    @extend_schema(responses={200: CourtHearingOutputSerializer(many=True)})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: CourtHearingOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        hearing = hearing_services.court_hearing_create(case=self.case, actor=request.user, **data)
        return self.created(hearing)


class CourtHearingDetailApi(_PartDetailApi):
    audit_object_type = "court_hearing"
    output_serializer = CourtHearingOutputSerializer

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=CourtHearing.Status.choices,
            help_text="rescheduled (with the new starts_at and a reason), cancelled (with a reason) or held.",
        )
        starts_at = BoundedDateTimeField(help_text="A new time reschedules the hearing.")
        reason = serializers.CharField(max_length=500, allow_blank=True)
        outcome = serializers.CharField(max_length=5000, allow_blank=True)
        court = serializers.ChoiceField(choices=_COURT_CHOICES, allow_blank=True)
        hearing_type = serializers.CharField(max_length=100)

    def part_get(self, pk: int) -> CourtHearing:
        return part_selectors.court_hearing_get_visible(user=self.request.user, pk=pk)

    @extend_schema(responses={200: CourtHearingOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.read(pk)

    @extend_schema(request=InputSerializer, responses={200: CourtHearingOutputSerializer}, parameters=[_IF_MATCH])
    def patch(self, request: AuthedRequest, pk: int) -> Response:
        hearing = self.part_get(pk)
        data = self.validated(self.InputSerializer, partial=True)
        hearing = hearing_services.court_hearing_update(
            hearing=hearing, actor=request.user, data=data, if_match=request.headers.get("If-Match")
        )
        return self.respond(hearing)


# alerts


class SafetyAlertOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    kind = serializers.CharField()
    summary = serializers.CharField()
    protected_detail = serializers.SerializerMethodField(
        help_text="Only for the lead agency's case team; null otherwise."
    )
    is_active = serializers.BooleanField()
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()
    resolved_by = serializers.IntegerField(source="resolved_by_id", allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_reason = serializers.CharField()
    updated_at = serializers.DateTimeField()

    def get_protected_detail(self, obj: SafetyAlert) -> str | None:
        access = self.context.get("access")
        return obj.protected_detail if access is not None and access.can_see_protected else None


class CaseAlertsApi(CasePartListApi):
    """Active alerts first, then the resolved ones (kept, with who resolved them, when and why)."""

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
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.list_parts()

    @extend_schema(request=InputSerializer, responses={201: SafetyAlertOutputSerializer})
    def post(self, request: AuthedRequest, pk: int) -> Response:
        data = self.validated(self.InputSerializer)
        alert = alert_services.safety_alert_create(case=self.case, actor=request.user, **data)
        return self.created(alert)


class SafetyAlertDetailApi(_PartDetailApi):
    audit_object_type = "safety_alert"
    output_serializer = SafetyAlertOutputSerializer

    def part_get(self, pk: int) -> SafetyAlert:
        return part_selectors.safety_alert_get_visible(user=self.request.user, pk=pk)

    @extend_schema(responses={200: SafetyAlertOutputSerializer})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return self.read(pk)


class SafetyAlertResolveApi(_PartDetailApi):
    audit_object_type = "safety_alert"
    output_serializer = SafetyAlertOutputSerializer

    def part_get(self, pk: int) -> SafetyAlert:
        return part_selectors.safety_alert_get_visible(user=self.request.user, pk=pk)

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses={200: SafetyAlertOutputSerializer}, parameters=[_IF_MATCH])
    def post(self, request: AuthedRequest, pk: int) -> Response:
        alert = self.part_get(pk)
        data = self.validated(self.InputSerializer)
        alert = alert_services.safety_alert_resolve(
            alert=alert, actor=request.user, reason=data["reason"], if_match=request.headers.get("If-Match")
        )
        return self.respond(alert)
