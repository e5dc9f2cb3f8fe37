"""Reports › Access reports in the admin: the agencies an admin may review (their own as an
agency admin, every one as a system admin), each with a button that downloads its access report
as CSV — the same report as GET /api/v1/agencies/{code}/access-report/?format=csv."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import is_agency_admin, is_system_admin

from . import access
from .models import AccessReportAgency, OversightSettings


@admin.register(AccessReportAgency)
class AccessReportAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "download")
    list_display_links = None
    actions = None

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request).order_by("code")
        if is_system_admin(request.user):
            return qs
        return qs.filter(pk=getattr(request.user, "agency_id", None))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user) or is_agency_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Loosening a threshold changes who is watched: an access-management change (SPEC §5).
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.ACCESS_CHANGE,
            object_type="oversight_settings",
            object_id=obj.pk,
            detail={"fields": sorted(form.changed_data), "via": "admin"},
        )

    @admin.display(description="Access report")
    def download(self, obj: AccessReportAgency) -> str:
        url = reverse("admin:reports_access_report_download", args=[obj.code])
        return format_html('<a class="button" href="{}">Download CSV</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<str:code>/download/",
                self.admin_site.admin_view(self.download_view),
                name="reports_access_report_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, code: str) -> HttpResponse:
        try:
            agency = access.access_report_agency(actor=request.user, code=code)
        except ApplicationError as refused:
            return HttpResponse(refused.message, status=refused.status_code, content_type="text/plain")
        report = access.access_report_build(actor=request.user, agency=agency)
        access.access_report_audit(actor=request.user, agency=agency, report=report, format="csv", via="admin")
        response = HttpResponse(report.as_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="access-report-{agency.code}.csv"'
        response["Cache-Control"] = "no-store"
        return response


@admin.register(OversightSettings)
class OversightSettingsAdmin(admin.ModelAdmin):
    """Reports › Access oversight settings: the alert thresholds, for system admins only (SPEC §9).
    One row: adding is offered only while there is none."""

    list_display = ("window_minutes", "bulk_reads", "duplicate_searches", "unusual_hour_reads", "updated_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user) and not OversightSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Loosening a threshold changes who is watched: an access-management change (SPEC §5).
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.ACCESS_CHANGE,
            object_type="oversight_settings",
            object_id=obj.pk,
            detail={"fields": sorted(form.changed_data), "via": "admin"},
        )
