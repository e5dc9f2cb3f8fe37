"""MDT teams in the Django admin: a system admin manages each team's members and coordinators.

Meetings, agendas and action items are case data and are not registered here (admins never
read case data)."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.permissions import is_system_admin

from .models import MDTTeam, TeamMembership


class SystemAdminOnlyMixin:
    def has_module_permission(self, request) -> bool:
        return is_system_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_system_admin(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return is_system_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_system_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_system_admin(request.user)


class TeamMembershipInline(SystemAdminOnlyMixin, admin.TabularInline):
    model = TeamMembership
    fields = ["user", "is_coordinator", "added_at"]
    readonly_fields = ["added_at"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(MDTTeam)
class MDTTeamAdmin(SystemAdminOnlyMixin, admin.ModelAdmin):
    list_display = ["code", "name", "court", "court_location"]
    fields = ["code", "name", "court", "court_location"]
    inlines = [TeamMembershipInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # meetings refer to the team; it is never deleted

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                object_type="mdt_team",
                object_id=obj.pk,
                detail={"fields": sorted(form.changed_data)},
            )

    def save_formset(self, request, form, formset, change):
        # Every membership change is an access change: audited with who, which team, what.
        with transaction.atomic():
            instances = formset.save(commit=False)
            for membership in formset.deleted_objects:
                detail = {"team": form.instance.code, "user": membership.user_id, "removed": True}
                membership_id = membership.pk
                membership.delete()
                audit_record(
                    actor=request.user,
                    action=AuditEvent.Action.ACCESS_CHANGE,
                    object_type="mdt_team_membership",
                    object_id=membership_id,
                    detail=detail,
                )
            for membership in instances:
                created = membership.pk is None
                if created:
                    membership.added_by = request.user
                membership.save()
                audit_record(
                    actor=request.user,
                    action=AuditEvent.Action.ACCESS_CHANGE,
                    object_type="mdt_team_membership",
                    object_id=membership.pk,
                    detail={
                        "team": form.instance.code,
                        "user": membership.user_id,
                        "is_coordinator": membership.is_coordinator,
                        "created": created,
                    },
                )
            formset.save_m2m()
