from django.urls import path

from . import apis

urlpatterns = [
    path("agencies/<str:code>/access-report/", apis.AgencyAccessReportApi.as_view(), name="agency-access-report"),
]
