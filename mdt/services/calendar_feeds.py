"""A member's personal calendar feed: create or rotate its secret URL, revoke it."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from mdt import selectors
from mdt.models import CalendarFeed
from mdt.permissions import may_sit_on_team

Action = AuditEvent.Action


@transaction.atomic
def calendar_feed_rotate(*, actor: Any) -> tuple[CalendarFeed, str]:
    """Create the caller's feed, or replace its secret (the old URL stops working). Returns the
    feed and the new secret, which is stored only as a hash and shown this once."""
    if not may_sit_on_team(actor):
        raise ApplicationError("Calendar feeds are for MDT team members.", code="forbidden")
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.update_or_create(
        user=actor,
        defaults={
            "token_hash": selectors.calendar_feed_token_hash(token),
            "created_at": timezone.now(),
            "revoked_at": None,
        },
    )
    audit_record(
        actor=actor,
        action=Action.CREATE if created else Action.UPDATE,
        object_type="mdt_calendar_feed",
        object_id=feed.pk,
        detail={"rotated": not created},
    )
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, actor: Any) -> int:
    revoked = CalendarFeed.objects.filter(user=actor, revoked_at__isnull=True).update(revoked_at=timezone.now())
    feed = CalendarFeed.objects.filter(user=actor).only("id").first()
    audit_record(
        actor=actor,
        action=Action.DELETE,
        object_type="mdt_calendar_feed",
        object_id=feed.pk if feed else "",
        detail={"revoked": revoked},
    )
    return revoked
