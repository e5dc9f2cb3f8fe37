"""Calendars: one meeting as an .ics download, and a member's personal feed (manage it; the public
feed URL)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry, audit_record
from core.errors import ApplicationError
from mdt import exports, selectors
from mdt.apis.reads import audit_reads
from mdt.apis.renderers import ErrorsAsJsonMixin, FirstRendererNegotiation, ICSRenderer
from mdt.services.calendar_feeds import calendar_feed_revoke, calendar_feed_rotate

Action = AuditEvent.Action


class MeetingCalendarApi(ErrorsAsJsonMixin, APIView):
    """The meeting as one RFC 5545 event: stable UID, UTC times, no case details."""

    renderer_classes = [ICSRenderer]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        tags=["mdt"],
        operation_id="mdt_meeting_calendar_ics",
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="One RFC 5545 VEVENT")},
    )
    def get(self, request: AuthedRequest, pk: int) -> Response:
        meeting = selectors.meeting_get_visible(user=request.user, pk=pk)
        audit_reads(request, [AuditEntry(Action.EXPORT, "mdt_meeting", meeting.pk, detail={"format": "ics"})])
        return Response(
            exports.meeting_ics(meeting=meeting),
            content_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="meeting-{meeting.pk}.ics"'},
        )


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
    def get(self, request: AuthedRequest) -> Response:
        feed = selectors.calendar_feed_get(user=request.user)
        audit_reads(request, [AuditEntry(Action.VIEW, "mdt_calendar_feed", feed.pk if feed else "")])
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
    def post(self, request: AuthedRequest) -> Response:
        from django.conf import settings
        from django.urls import reverse

        feed, token = calendar_feed_rotate(actor=request.user)
        url = settings.HARBOR_BASE_URL.rstrip("/") + reverse("mdt-calendar-feed-public", kwargs={"token": token})
        return Response(
            self.CreatedSerializer({"url": url, "created_at": feed.created_at}).data,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @extend_schema(tags=["mdt"], request=None, responses={204: None})
    def delete(self, request: AuthedRequest) -> Response:
        calendar_feed_revoke(actor=request.user)
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
