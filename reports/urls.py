from django.urls import path

from . import apis

urlpatterns = [
    path("agencies/<str:code>/access-report/", apis.AgencyAccessReportApi.as_view(), name="agency-access-report"),
    path("cases/<int:pk>/readers/", apis.CaseReadersApi.as_view(), name="case-readers"),
    path("reports/", apis.ReportListApi.as_view(), name="report-list"),
    path("reports/caseload/", apis.CaseloadExportApi.as_view(), name="report-caseload"),
    path("reports/<str:name>/", apis.ReportApi.as_view(), name="report-detail"),
]
