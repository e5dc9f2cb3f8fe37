from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.permissions import is_auditor

from .models import AuditEvent, AuditVerifyJob


def audit_event_list_visible_to(*, user: Any) -> QuerySet[AuditEvent]:
    """Only auditors read the audit log."""
    if not is_auditor(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


def audit_verify_job_visible_to(*, user: Any) -> QuerySet[AuditVerifyJob]:
    """Verification jobs are the auditors' (any auditor's: they share the oversight)."""
    if not is_auditor(user):
        return AuditVerifyJob.objects.none()
    return AuditVerifyJob.objects.all()
