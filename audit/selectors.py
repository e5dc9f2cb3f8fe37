from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.permissions import is_auditor

from .models import AuditEvent


def audit_event_list_visible_to(*, user: Any) -> QuerySet[AuditEvent]:
    """Only auditors read the audit log."""
    if not is_auditor(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()
