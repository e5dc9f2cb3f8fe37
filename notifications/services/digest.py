"""The supervisors' daily digest (SPEC §3): at 7:00 Pacific, each active supervisor gets one
notification listing the outstanding (open and missed) deadlines of their agency that they may
see — case and referral numbers, rule names and due times only — in the inbox and by email (it
cannot be turned off, like the overdue escalation).

The beat task runs every few minutes; the first run at or after 7:00 Pacific on a day makes that
day's digests, and later runs find them made (a unique (supervisor, day) row). A beat that was
down at 7:00 sends the day's digest when it comes back. A day with nothing outstanding is
recorded without a notification, so the decision is taken once a day per supervisor.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.permissions import Role

from .. import messages
from ..models import DailyDigest, Deadline, Notification
from ..selectors import deadline_list_visible_to
from .delivery import _enqueue_sends, _new_notification

logger = logging.getLogger(__name__)
User = get_user_model()

#: The hour (Pacific) the digest goes out.
DIGEST_HOUR = 7
#: At most this many lines in one digest (the link lists them all).
DIGEST_MAX_LINES = 200


def _local_day(now: dt.datetime) -> tuple[dt.date, bool]:
    """(the Pacific day, whether its digest time has come)."""
    local = now.astimezone(messages.PACIFIC)
    return local.date(), local.hour >= DIGEST_HOUR


def digest_lines_for(*, user: Any) -> list[dict[str, str]]:
    """The outstanding deadlines of the user's agency the user may see, most urgent first."""
    visible = deadline_list_visible_to(user=user).values("id")
    rows = (
        Deadline.objects.filter(id__in=visible, agency_id=user.agency_id, status__in=Deadline.ACTIVE)
        .order_by("due_at", "id")
        .values("rule__name", "reference", "due_at", "status")[:DIGEST_MAX_LINES]
    )
    return [
        messages.digest_line(
            rule_name=r["rule__name"], reference=r["reference"], due_at=r["due_at"], status=r["status"]
        )
        for r in rows
    ]


def _digest_make(*, user: Any, day: dt.date, now: dt.datetime) -> int | None:
    """Make one supervisor's digest for `day` (nothing if it exists): its notification's id, or
    None (made before, or nothing outstanding)."""
    with transaction.atomic():
        if DailyDigest.objects.filter(recipient=user, local_date=day).exists():
            return None
        lines = digest_lines_for(user=user)
        notification = None
        if lines:
            code = user.agency.code
            notification = _new_notification(
                user=user,
                reason=Notification.Reason.DIGEST,
                rule_code=messages.DIGEST_RULE,
                stage=Notification.Stage.NOTICE,
                email=bool(user.email),
                now=now,
                subject=messages.digest_subject(count=len(lines), agency_code=code),
                reference=f"{code} outstanding deadlines",
                link=messages.absolute_link(f"/api/v1/deadlines/?status=outstanding&agency={code}"),
            )
            notification.save()
        try:
            with transaction.atomic():  # two digest runs at once: the second finds the first's row
                DailyDigest.objects.create(
                    recipient=user, agency_id=user.agency_id, local_date=day, lines=lines, notification=notification
                )
        except IntegrityError:
            transaction.set_rollback(True)
            return None
        if notification is None:
            return None
        if notification.delivery_status == Notification.Delivery.PENDING:
            transaction.on_commit(partial(_enqueue_sends, [notification.pk]), robust=True)
        return notification.pk


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Make today's digests once their time has come; returns how many notifications it made
    (an email each, sent after commit by the delivery tasks)."""
    now = now or timezone.now()
    day, due = _local_day(now)
    if not due:
        return 0
    supervisors = (
        User.objects.filter(is_active=True, role=Role.SUPERVISOR, agency__isnull=False)
        .exclude(pk__in=DailyDigest.objects.filter(local_date=day).values("recipient_id"))
        .select_related("agency")
        .order_by("id")
    )
    made = 0
    for user in supervisors:
        if _digest_make(user=user, day=day, now=now) is not None:
            made += 1
    if made:
        logger.info("daily digest: %s notifications made", made)
    return made
