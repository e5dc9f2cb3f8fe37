"""Agency access in the Django admin.

An agency admin sees and edits only their own agency's users and cannot grant system_admin or
auditor; a system admin manages agencies and every agency's users. Permissions follow the
role, not Django's per-model permission table, so there is one rule to review (the same
`_check_grant` the API uses). No case data model is registered here: admins never read case
data (separation of duties)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from config.api import ApplicationError

from . import services
from .models import Agency, User
from .permissions import AGENCY_ADMIN_GRANTABLE, Role, is_admin, is_system_admin


class RoleScopedAdminMixin:
    def has_module_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return is_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return is_admin(request.user)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return is_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return is_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # deactivate, never delete: the audit log refers to people by id


@admin.register(Agency)
class AgencyAdmin(RoleScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    search_fields = ["code", "name"]

    def has_module_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return is_system_admin(request.user)

    has_view_permission = lambda self, request, obj=None: is_system_admin(request.user)  # noqa: E731
    has_add_permission = lambda self, request: is_system_admin(request.user)  # noqa: E731
    has_change_permission = lambda self, request, obj=None: is_system_admin(request.user)  # noqa: E731

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                object_type="agency",
                object_id=obj.pk,
                detail={"fields": sorted(form.changed_data)},
            )


class HarborUserCreationForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Leave empty to email an invitation link."
    )

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name", "agency", "role"]

    def clean(self) -> dict[str, Any]:
        # The service's checks, shown as field errors (the service would refuse too, but only as
        # a bare 403 page): a name unique ignoring case, and Django's password validators.
        cleaned = super().clean()
        username = cleaned.get("username")
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", "That username is taken.")
        password = cleaned.get("password")
        if password:
            candidate = User(**{k: cleaned.get(k) or "" for k in ("username", "email", "first_name", "last_name")})
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class HarborUserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "agency", "role", "is_active"]


@admin.register(User)
class UserAdmin(RoleScopedAdminMixin, DjangoUserAdmin):
    form = HarborUserChangeForm
    add_form = HarborUserCreationForm
    list_display = ["username", "first_name", "last_name", "agency", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "agency"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    actions = ["deactivate_selected"]
    fieldsets = ((None, {"fields": ["email", "first_name", "last_name", "agency", "role", "is_active"]}),)
    add_fieldsets = ((None, {"fields": ["username", "email", "first_name", "last_name", "agency", "role", "password"]}),)
    readonly_fields: list[str] = []

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        # Object level: the same grant rule as the services, so an agency admin can neither edit
        # nor set the password of a system admin or auditor who belongs to their agency.
        if not is_admin(request.user):
            return False
        return obj is None or services.user_is_manageable_by(actor=request.user, user=obj)

    def user_change_password(self, request, id, form_url=""):  # type: ignore[no-untyped-def]
        # Django's own view (object permission above); the change is audited like any other.
        user = self.get_object(request, unquote(id))
        before = user.password if user is not None else None
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if user is not None and request.method == "POST":
                after = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
                if after != before:
                    audit_record(
                        actor=request.user,
                        action=AuditEvent.Action.UPDATE,
                        object_type="user",
                        object_id=user.pk,
                        detail={"fields": ["password"]},
                    )
        return response

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        qs = super().get_queryset(request).select_related("agency")
        if is_system_admin(request.user):
            return qs
        return qs.filter(agency_id=request.user.agency_id)

    def get_list_filter(self, request):  # type: ignore[no-untyped-def]
        return self.list_filter if is_system_admin(request.user) else ["role", "is_active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "agency" and not is_system_admin(request.user):
            kwargs["queryset"] = Agency.objects.filter(pk=request.user.agency_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "role" and not is_system_admin(request.user):
            kwargs["choices"] = [(v, label) for v, label in Role.choices if v in AGENCY_ADMIN_GRANTABLE]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # Route through the same services as the API, so one rule governs both.
        try:
            if change:
                fresh = User.objects.get(pk=obj.pk)
                services.user_update(
                    actor=request.user, user=fresh, data={k: form.cleaned_data[k] for k in form.changed_data}
                )
            else:
                created = services.user_create(
                    actor=request.user,
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    first_name=form.cleaned_data.get("first_name", ""),
                    last_name=form.cleaned_data.get("last_name", ""),
                    agency=form.cleaned_data.get("agency"),
                    role=form.cleaned_data["role"],
                    password=form.cleaned_data.get("password") or None,
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        return None

    @admin.action(description="Deactivate selected users (ends their sessions and tokens)")
    def deactivate_selected(self, request, queryset: Any) -> None:
        done = 0
        for user in queryset:
            try:
                services.user_deactivate(actor=request.user, user=user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, exc.message)
        messages.success(request, f"{done} user(s) deactivated.")
