"""What the audit app records of what core announces (core imports no app above it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.signals import access_denied


@receiver(access_denied, dispatch_uid="audit.permission_denied")
def record_denial(
    sender: Any, *, user: Any, method: str, status_code: int, object_type: str, ids: dict[str, int], **_: Any
) -> None:
    """SPEC §5: a refused read or write is itself an audit event (`permission_denied`, outcome
    `denied`): ids and codes only, in its own transaction (the refused change was rolled back)."""
    detail: dict[str, Any] = {"method": method, "status": status_code}
    detail.update({k: v for k, v in ids.items() if k != "pk"})
    with transaction.atomic():
        audit_record(
            actor=user,
            action=AuditEvent.Action.PERMISSION_DENIED,
            object_type=object_type,
            object_id=ids.get("pk", ""),
            outcome=AuditEvent.Outcome.DENIED,
            detail=detail,
        )
