from django.urls import path

from . import apis

urlpatterns = [
    path("mdt/teams/", apis.TeamListApi.as_view(), name="mdt-team-list"),
    path("mdt/teams/<int:pk>/members/", apis.TeamMemberListCreateApi.as_view(), name="mdt-team-members"),
    path("mdt/teams/<int:pk>/members/<int:user_id>/", apis.TeamMemberDeleteApi.as_view(), name="mdt-team-member"),
    path("mdt/meetings/", apis.MeetingListCreateApi.as_view(), name="mdt-meeting-list"),
    path("mdt/meetings/<int:pk>/", apis.MeetingDetailApi.as_view(), name="mdt-meeting-detail"),
    path("mdt/meetings/<int:pk>/items/", apis.MeetingItemListCreateApi.as_view(), name="mdt-meeting-items"),
    path(
        "mdt/meetings/<int:pk>/items/reorder/", apis.MeetingItemReorderApi.as_view(), name="mdt-meeting-items-reorder"
    ),
    path("mdt/meetings/<int:pk>/publish/", apis.MeetingPublishApi.as_view(), name="mdt-meeting-publish"),
    path("mdt/meetings/<int:pk>/hold/", apis.MeetingHoldApi.as_view(), name="mdt-meeting-hold"),
    path(
        "mdt/meetings/<int:pk>/finalize-minutes/",
        apis.MeetingFinalizeMinutesApi.as_view(),
        name="mdt-meeting-finalize-minutes",
    ),
    path("mdt/meetings/<int:pk>/cancel/", apis.MeetingCancelApi.as_view(), name="mdt-meeting-cancel"),
    path("mdt/meetings/<int:pk>/agenda/", apis.MeetingAgendaApi.as_view(), name="mdt-meeting-agenda"),
    path("mdt/meetings/<int:pk>/calendar.ics", apis.MeetingCalendarApi.as_view(), name="mdt-meeting-calendar"),
    path("mdt/meetings/<int:pk>/attendance/", apis.MeetingAttendanceApi.as_view(), name="mdt-meeting-attendance"),
    path("mdt/meetings/<int:pk>/suggestions/", apis.MeetingSuggestionsApi.as_view(), name="mdt-meeting-suggestions"),
    path("mdt/items/<int:pk>/", apis.AgendaItemDetailApi.as_view(), name="mdt-item-detail"),
    path("mdt/items/<int:pk>/review/", apis.AgendaItemReviewApi.as_view(), name="mdt-item-review"),
    path("mdt/calendar-feed/", apis.CalendarFeedApi.as_view(), name="mdt-calendar-feed"),
    path("mdt/feeds/<str:token>.ics", apis.CalendarFeedPublicApi.as_view(), name="mdt-calendar-feed-public"),
    path("action-items/", apis.ActionItemListCreateApi.as_view(), name="action-item-list"),
    path("action-items/<int:pk>/", apis.ActionItemDetailApi.as_view(), name="action-item-detail"),
]
