from django.urls import path

from . import apis

urlpatterns = [
    path("audit-events/", apis.AuditEventListApi.as_view(), name="audit-event-list"),
    path("audit-events/verify/", apis.AuditVerifyApi.as_view(), name="audit-verify"),
    path("audit-events/verify/<int:pk>/", apis.AuditVerifyJobApi.as_view(), name="audit-verify-job"),
]
