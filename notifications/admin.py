"""Deadline rules in the Django admin: a system admin edits offsets, stages and recipients.

Deadlines and notifications are not registered: they name cases and referrals, and admins never
read case data (separation of duties). A rule edit affects deadlines opened afterwards only:
each deadline copies its times and recipients when opened."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.permissions import is_system_admin

from .models import DeadlineRule


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "target", "offset", "upcoming_fraction", "overdue_after", "recipients", "is_active"]
    list_filter = ["target", "is_active"]
    search_fields = ["code", "name"]
    fields = [
        "code",
        "name",
        "target",
        "starts_on",
        "offset",
        "due_anchor",
        "met_by",
        "legal_source",
        "legal_default",
        "upcoming_fraction",
        "overdue_after",
        "escalate_overdue",
        "recipients",
        "responsible_agency",
        "lapse_outcome",
        "is_active",
    ]

    def get_readonly_fields(self, request, obj=None):
        # The code, the target and the law's default identify the rule; services refer to them.
        return ["code", "target", "due_anchor", "legal_default"] if obj is not None else []

    def has_module_permission(self, request) -> bool:
        return is_system_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_system_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return is_system_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_system_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deadlines refer to their rule; switch it off instead (is_active)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                object_type="deadline_rule",
                object_id=obj.pk,
                detail={"code": obj.code, "fields": sorted(form.changed_data)},
            )
