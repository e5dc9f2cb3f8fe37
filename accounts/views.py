"""The one HTML page outside the admin: choosing a password from an invitation link."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponse

from audit.models import AuditEvent
from audit.services import audit_record


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Django's one-time-link view; the password it sets is audited like any other change."""

    success_url = "/accounts/set-password/done/"

    def form_valid(self, form) -> HttpResponse:  # type: ignore[no-untyped-def]
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                actor=self.user,
                action=AuditEvent.Action.UPDATE,
                object_type="user",
                object_id=self.user.pk,
                detail={"fields": ["password"], "via": "invitation"},
            )
        return response
