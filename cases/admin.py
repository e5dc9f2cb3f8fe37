"""Indicator codes in the Django admin (SPEC §2): a system admin lists them, adds one and
deactivates one. They are reference data, not case data: no other cases model is registered
here (admins never read case data, separation of duties).

A code is never deleted (referrals name it): deactivating it stops new referrals from using it
and keeps it, with its label, on the referrals that carry it. The code itself is fixed once
created; its label and description can be corrected. Every change is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.permissions import is_system_admin

from .models import IndicatorCode


def _audit(request: HttpRequest, code: IndicatorCode, *, action: str, fields: list[str]) -> None:
    audit_record(
        actor=request.user,
        action=action,
        object_type="indicator_code",
        object_id=code.pk,
        detail={"fields": sorted(fields)},
    )


@admin.register(IndicatorCode)
class IndicatorCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "label"]
    fields = ["code", "label", "description", "is_active"]
    actions = ["deactivate_selected", "reactivate_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: IndicatorCode | None = None) -> list[str]:
        # Referrals store the code: renaming it would change what they say.
        return ["code"] if obj is not None else []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: IndicatorCode | None = None) -> bool:
        return is_system_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: IndicatorCode | None = None) -> bool:
        return is_system_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: IndicatorCode | None = None) -> bool:
        return False  # referrals name the code: deactivate it instead

    def get_actions(self, request: HttpRequest) -> dict[str, tuple[Callable[..., str], str, str] | None]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: IndicatorCode, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            _audit(
                request,
                obj,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                fields=list(form.changed_data),
            )

    def _set_active(self, request: HttpRequest, queryset: QuerySet[IndicatorCode], active: bool) -> int:
        done = 0
        with transaction.atomic():
            for code in queryset.select_for_update().filter(is_active=not active):
                code.is_active = active
                code.save(update_fields=["is_active"])
                _audit(request, code, action=AuditEvent.Action.UPDATE, fields=["is_active"])
                done += 1
        return done

    @admin.action(description="Deactivate selected codes (new referrals can no longer use them)")
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[IndicatorCode]) -> None:
        done = self._set_active(request, queryset, False)
        messages.success(request, f"{done} indicator code(s) deactivated.")

    @admin.action(description="Reactivate selected codes")
    def reactivate_selected(self, request: HttpRequest, queryset: QuerySet[IndicatorCode]) -> None:
        done = self._set_active(request, queryset, True)
        messages.success(request, f"{done} indicator code(s) reactivated.")
