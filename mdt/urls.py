"""The MDT endpoints (SPEC §4): teams, meetings and their agendas, calendars, action items."""

from django.urls import path

from mdt.apis.action_items import ActionItemDetailApi, ActionItemListCreateApi
from mdt.apis.agenda import (
    AgendaItemDetailApi,
    AgendaItemReviewApi,
    MeetingAgendaApi,
    MeetingItemListCreateApi,
    MeetingItemReorderApi,
    MeetingSuggestionsApi,
    TeamEligibleCasesApi,
)
from mdt.apis.attendance import MeetingAttendanceApi
from mdt.apis.calendars import CalendarFeedApi, CalendarFeedPublicApi, MeetingCalendarApi
from mdt.apis.meetings import (
    MeetingCancelApi,
    MeetingDetailApi,
    MeetingFinalizeMinutesApi,
    MeetingHoldApi,
    MeetingListCreateApi,
    MeetingPublishApi,
)
from mdt.apis.teams import TeamListApi, TeamMemberDeleteApi, TeamMemberListCreateApi

urlpatterns = [
    path("mdt/teams/", TeamListApi.as_view(), name="mdt-team-list"),
    path("mdt/teams/<int:pk>/members/", TeamMemberListCreateApi.as_view(), name="mdt-team-members"),
    path("mdt/teams/<int:pk>/members/<int:user_id>/", TeamMemberDeleteApi.as_view(), name="mdt-team-member"),
    path("mdt/teams/<int:pk>/eligible-cases/", TeamEligibleCasesApi.as_view(), name="mdt-team-eligible-cases"),
    path("mdt/meetings/", MeetingListCreateApi.as_view(), name="mdt-meeting-list"),
    path("mdt/meetings/<int:pk>/", MeetingDetailApi.as_view(), name="mdt-meeting-detail"),
    path("mdt/meetings/<int:pk>/items/", MeetingItemListCreateApi.as_view(), name="mdt-meeting-items"),
    path("mdt/meetings/<int:pk>/items/reorder/", MeetingItemReorderApi.as_view(), name="mdt-meeting-items-reorder"),
    path("mdt/meetings/<int:pk>/publish/", MeetingPublishApi.as_view(), name="mdt-meeting-publish"),
    path("mdt/meetings/<int:pk>/hold/", MeetingHoldApi.as_view(), name="mdt-meeting-hold"),
    path(
        "mdt/meetings/<int:pk>/finalize-minutes/",
        MeetingFinalizeMinutesApi.as_view(),
        name="mdt-meeting-finalize-minutes",
    ),
    path("mdt/meetings/<int:pk>/cancel/", MeetingCancelApi.as_view(), name="mdt-meeting-cancel"),
    path("mdt/meetings/<int:pk>/agenda/", MeetingAgendaApi.as_view(), name="mdt-meeting-agenda"),
    path("mdt/meetings/<int:pk>/calendar.ics", MeetingCalendarApi.as_view(), name="mdt-meeting-calendar"),
    path("mdt/meetings/<int:pk>/attendance/", MeetingAttendanceApi.as_view(), name="mdt-meeting-attendance"),
    path("mdt/meetings/<int:pk>/suggestions/", MeetingSuggestionsApi.as_view(), name="mdt-meeting-suggestions"),
    path("mdt/items/<int:pk>/", AgendaItemDetailApi.as_view(), name="mdt-item-detail"),
    path("mdt/items/<int:pk>/review/", AgendaItemReviewApi.as_view(), name="mdt-item-review"),
    path("mdt/calendar-feed/", CalendarFeedApi.as_view(), name="mdt-calendar-feed"),
    path("mdt/feeds/<str:token>.ics", CalendarFeedPublicApi.as_view(), name="mdt-calendar-feed-public"),
    path("action-items/", ActionItemListCreateApi.as_view(), name="action-item-list"),
    path("action-items/<int:pk>/", ActionItemDetailApi.as_view(), name="action-item-detail"),
]
