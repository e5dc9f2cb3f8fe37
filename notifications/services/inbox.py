"""A person's own inbox and email preferences (SPEC §3 "Notifications")."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError

from ..models import Notification, NotificationPreference
from ..rules import NOTICE_KINDS
from ..selectors import preference_kinds


def notification_mark_read(*, notification: Notification, actor: Any) -> Notification:
    """Mark one of the actor's own notifications read (idempotent: the first read time stays)."""
    if notification.recipient_id != actor.pk:
        raise ApplicationError("Not found.", code="not_found")
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


@transaction.atomic
def notification_preferences_update(*, user: Any, changes: dict[str, bool], actor: Any) -> None:
    """Set, per reminder kind, whether the user also gets it by email. The overdue escalation
    is emailed whatever is set here; the inbox always gets everything."""
    known = {code for code, _ in preference_kinds()} | set(NOTICE_KINDS)
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ApplicationError(
            "Unknown reminder kind.", fields={"rules": [f"Unknown rule: {code}" for code in unknown]}
        )
    for code, email in changes.items():
        NotificationPreference.objects.update_or_create(user=user, rule=code, defaults={"email": bool(email)})
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="notification_preference",
        object_id=user.pk,
        detail={"email": {code: bool(v) for code, v in sorted(changes.items())}},
    )
