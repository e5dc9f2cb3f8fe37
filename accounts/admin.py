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
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Field, ForeignKey, Q, QuerySet
from django.forms import ModelChoiceField, TypedChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import AGENCY_ADMIN_GRANTABLE, Role, is_admin, is_system_admin

from . import mfa, services
from .models import Agency, User


def _actor(request: HttpRequest) -> User:
    """The admin making the request: the admin site lets only signed-in admins in."""
    user = request.user
    assert isinstance(user, User)
    return user


class RoleScopedAdminMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate, never delete: the audit log refers to people by id


@admin.register(Agency)
class AgencyAdmin(RoleScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "is_active"]
    search_fields = ["code", "name"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Agency | None = None) -> bool:
        return is_system_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Agency | None = None) -> bool:
        return is_system_admin(request.user)

    def save_model(self, request: HttpRequest, obj: Agency, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                object_type="agency",
                object_id=obj.pk,
                detail={"fields": sorted(form.changed_data)},
            )


NO_EMAIL_MESSAGE = (
    "Give the new user's work email address: the invitation to choose their password is sent there "
    "(admins never set a password), so without one they could never sign in."
)


class HarborUserCreationForm(forms.ModelForm):
    """No password field: the new user is emailed an invitation link and chooses their own
    (SPEC §1: admins never set another user's password)."""

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name", "agency", "role"]

    def clean(self) -> dict[str, Any]:
        # The service's checks, shown as field errors (the service would refuse too, but only as
        # a bare 403 page): a name unique ignoring case.
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        username = cleaned.get("username")
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", "That username is taken.")
        if not (cleaned.get("email") or "").strip() and "email" not in self.errors:
            # No password is set here: the invitation to choose one goes to this address, so a
            # user without one could never sign in.
            self.add_error("email", NO_EMAIL_MESSAGE)
        if (
            "agency" in self.fields
            and cleaned.get("agency") is None
            and cleaned.get("role") != Role.SYSTEM_ADMIN
            and "agency" not in self.errors
        ):
            self.add_error("agency", "Choose the agency the new user belongs to (every user belongs to one).")
        return cleaned


class HarborUserChangeForm(forms.ModelForm):
    """The change form runs the service's own rules (services.user_update_check) in clean(), so a
    refused change is a form error that says why; save_model then calls the service, which checks
    again inside its transaction."""

    #: Set per request by UserAdmin.get_form: the admin making the change.
    actor: User | None = None

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "agency", "role", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        if self.actor is None or self.instance.pk is None:
            return cleaned
        data = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        try:
            services.user_update_check(actor=self.actor, user=User.objects.get(pk=self.instance.pk), data=data)
        except ApplicationError as exc:
            field = next((name for name in exc.fields if name in self.fields), None)
            self.add_error(field, exc.message)
        return cleaned


#: How a set-password link reached the user, by the audit event that records it (accounts.services).
LINK_KINDS = {
    "created": "Invitation sent when the account was created",
    "password_link_sent": "Set-password link sent by an admin",
    "password_reset_requested": "Password reset requested by the user",
}


def user_access_status(user: User) -> dict[str, Any]:
    """What the change page shows about a user's access, read from the audit log and the
    device tables: the last set-password link (invitation, admin's link or the user's own
    reset request) and whether a password was chosen after it, whether the password is usable,
    and which MFA devices are enrolled. Counts and times only: no link, secret or code."""
    events = AuditEvent.objects.filter(object_type="user", object_id=str(user.pk))
    last_link = (
        events.filter(
            Q(action=AuditEvent.Action.CREATE)
            | Q(action=AuditEvent.Action.UPDATE, detail__step__in=["password_link_sent", "password_reset_requested"])
        )
        .order_by("-id")
        .first()
    )
    link_used = None
    if last_link is not None:
        # user_password_set records the password chosen from a link as {"via": "invitation"}.
        link_used = (
            events.filter(id__gt=last_link.pk, action=AuditEvent.Action.UPDATE, detail__via="invitation")
            .order_by("id")
            .first()
        )
    totp = list(TOTPDevice.objects.filter(user=user).order_by("id"))
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return {
        "link_kind": LINK_KINDS.get(str((last_link.detail or {}).get("step", "created")), "") if last_link else "",
        "link_sent_at": last_link.occurred_at if last_link else None,
        "link_used_at": link_used.occurred_at if link_used else None,
        "password_usable": user.has_usable_password(),
        "mfa_required": services.mfa_required_for(user),
        "mfa_devices": [device.name for device in totp if device.confirmed],
        "mfa_pending": any(not device.confirmed for device in totp),
        "mfa_recovery_codes_left": StaticToken.objects.filter(device=static).count() if static else None,
        "has_mfa_devices": bool(totp) or static is not None,
    }


@admin.register(User)
class UserAdmin(RoleScopedAdminMixin, DjangoUserAdmin):
    form = HarborUserChangeForm
    add_form = HarborUserCreationForm
    list_display = ["username", "first_name", "last_name", "agency", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "agency"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    actions = ["send_password_link_selected", "deactivate_selected"]
    fieldsets = ((None, {"fields": ["email", "first_name", "last_name", "agency", "role", "is_active"]}),)
    add_fieldsets = ((None, {"fields": ["username", "email", "first_name", "last_name", "agency", "role"]}),)
    readonly_fields = []
    change_form_template = "admin/accounts/user/change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str] | tuple[str, ...]:
        # Separation of duties: no one changes their own role, agency or active state (the
        # service refuses a forged POST too).
        if obj is not None and obj.pk == request.user.pk:
            return ["agency", "role", "is_active"]
        return super().get_readonly_fields(request, obj)

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[User]]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form = type(form.__name__, (form,), {"actor": request.user})
        return form

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Object level: the same grant rule as the services, so an agency admin can neither edit
        # nor set the password of a system admin or auditor who belongs to their agency.
        if not is_admin(request.user):
            return False
        return obj is None or services.user_is_manageable_by(actor=_actor(request), user=obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Admins never set another user's password (SPEC §1): "Send a set-password link" instead.
        if self.get_object(request, unquote(id)) is None:
            raise Http404  # not visible to this admin: as for any other page of that user
        raise PermissionDenied("Admins do not set passwords; send the user a set-password link.")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request).select_related("agency")
        if is_system_admin(request.user):
            return qs
        return qs.filter(agency_id=_actor(request).agency_id)

    def get_list_filter(self, request: HttpRequest) -> Any:
        return self.list_filter if is_system_admin(request.user) else ["role", "is_active"]

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "agency" and not is_system_admin(request.user):
            # An agency admin adds users of their own agency only: preselected and the only
            # choice (no "----" that would end in a constraint message); a forged other agency
            # is a form error.
            agency_id = _actor(request).agency_id
            assert agency_id is not None  # only a system admin stands outside every agency
            kwargs["queryset"] = Agency.objects.filter(pk=agency_id)
            kwargs["initial"] = agency_id
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> TypedChoiceField | None:
        if db_field.name == "role" and not is_system_admin(request.user):
            kwargs["choices"] = [(v, label) for v, label in Role.choices if v in AGENCY_ADMIN_GRANTABLE]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Route through the same services as the API, so one rule governs both.
        try:
            if change:
                fresh = User.objects.get(pk=obj.pk)
                services.user_update(
                    actor=_actor(request), user=fresh, data={k: form.cleaned_data[k] for k in form.changed_data}
                )
            else:
                created = services.user_create(
                    actor=_actor(request),
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    first_name=form.cleaned_data.get("first_name", ""),
                    last_name=form.cleaned_data.get("last_name", ""),
                    agency=form.cleaned_data.get("agency"),
                    role=form.cleaned_data["role"],
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc

    # --- the change page: access status, the two access buttons, deactivation confirmed ---------

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/send-password-link/",
                self.admin_site.admin_view(require_POST(self.send_password_link_view)),
                name="accounts_user_send_password_link",
            ),
            path(
                "<path:object_id>/reset-mfa/",
                self.admin_site.admin_view(require_POST(self.reset_mfa_view)),
                name="accounts_user_reset_mfa",
            ),
        ]
        return own + super().get_urls()

    def _manageable_user(self, request: HttpRequest, object_id: str) -> User:
        """The user of an access button: one this admin can see (else 404, as for any other
        page of that user) and may manage under the grant rule (else 403)."""
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        return user

    def _back_to_change_page(self, user: User) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:accounts_user_change", args=[user.pk], current_app=self.admin_site.name)
        )

    def send_password_link_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._manageable_user(request, object_id)
        try:
            services.user_send_password_link(actor=_actor(request), user=user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "A set-password link was emailed to the user.")
        return self._back_to_change_page(user)

    def reset_mfa_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._manageable_user(request, object_id)
        try:
            mfa.mfa_reset(actor=_actor(request), user=user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                "The user's MFA devices were removed and their sessions ended; they enrol again at next sign-in.",
            )
        return self._back_to_change_page(user)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = self.get_object(request, unquote(object_id))
        if user is not None and self.has_view_or_change_permission(request, user):
            extra_context = {
                **(extra_context or {}),
                "access_status": user_access_status(user),
                "access_manageable": services.user_is_manageable_by(actor=_actor(request), user=user),
            }
            if self._deactivation_unconfirmed(request, user):
                return self._deactivation_confirmation(request, user)
        return super().change_view(request, object_id, form_url, extra_context)

    def _deactivation_unconfirmed(self, request: HttpRequest, user: User) -> bool:
        """A POST of the change form that unticks "active" on an active user this admin may
        change, not yet confirmed on the confirmation page."""
        return (
            request.method == "POST"
            and user.is_active
            and "is_active" not in request.POST
            and "is_active" not in self.get_readonly_fields(request, user)
            and self.has_change_permission(request, user)
            and request.POST.get("_deactivation_confirmed") != "yes"
        )

    def _deactivation_confirmation(self, request: HttpRequest, user: User) -> HttpResponse:
        # The posted form goes back unchanged as hidden fields (the CSRF token is the template's own).
        posted = [
            (name, value) for name, values in request.POST.lists() if name != "csrfmiddlewaretoken" for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Deactivate this user?",
            "opts": self.opts,
            "original": user,
            "posted": posted,
        }
        return TemplateResponse(request, "admin/accounts/user/deactivate_confirmation.html", context)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    @admin.action(description="Send selected users a set-password link by email")
    def send_password_link_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        for user in queryset:
            try:
                services.user_send_password_link(actor=_actor(request), user=user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, exc.message)
        messages.success(request, f"{done} set-password link(s) sent.")

    @admin.action(description="Deactivate selected users (ends their sessions and tokens)")
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        if request.POST.get("post") != "yes":
            # First a confirmation page (Django's pattern for actions that cannot be undone).
            return TemplateResponse(
                request,
                "admin/accounts/user/deactivate_selected_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "users": list(queryset.order_by("username")),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done = 0
        for user in queryset:
            try:
                services.user_deactivate(actor=_actor(request), user=user)
                done += 1
            except ApplicationError as exc:
                messages.error(request, exc.message)
        messages.success(request, f"{done} user(s) deactivated.")
        return None


# --- MFA devices ---------------------------------------------------------------------------------
# django-otp's own admins show a TOTP device's secret `key`, its QR code and the recovery codes
# (StaticToken inline), and let a superuser create or edit devices. No screen may show an enrolled
# authenticator's secret or a recovery code (SPEC §6): they are replaced by read-only lists of
# which devices exist. Devices change only through enrolment and the MFA reset service.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


MFA_DEVICE_FIELDS = ["user", "name", "confirmed", "created_at", "last_used_at"]


class MfaDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "last_used_at"]
    list_filter = ["confirmed"]
    fields = [*MFA_DEVICE_FIELDS]
    readonly_fields = MFA_DEVICE_FIELDS
    search_fields = ["user__username"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request).select_related("user")
        if is_system_admin(request.user):
            return qs
        return qs.filter(user__agency_id=_actor(request).agency_id)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the MFA reset (API or user action) removes devices, audited


admin.site.register(TOTPDevice, MfaDeviceAdmin)
admin.site.register(StaticDevice, MfaDeviceAdmin)
