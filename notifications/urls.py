from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("deadlines/", apis.DeadlineListApi.as_view(), name="deadline-list"),
    path("deadlines/<int:pk>/waive/", apis.DeadlineWaiveApi.as_view(), name="deadline-waive"),
    path("notifications/", apis.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/unread-count/", apis.NotificationUnreadCountApi.as_view(), name="notification-unread-count"),
    path("notifications/<int:pk>/read/", apis.NotificationReadApi.as_view(), name="notification-read"),
    path("notification-failures/", apis.NotificationFailureListApi.as_view(), name="notification-failure-list"),
    path("notification-preferences/", apis.NotificationPreferencesApi.as_view(), name="notification-preferences"),
]
