"""Heartbeats of the periodic jobs the service depends on.

The sweep (notifications) and the audit seal (audit) are owned by their apps; a heartbeat is
recorded when their Celery task succeeds (ops/signals.py, Celery's `task_success`), so neither
app knows about it.
"""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from .models import Heartbeat

SWEEP = "sweep"
AUDIT_SEAL = "audit_seal"
AUDIT_CHECKPOINT = "audit_checkpoint"
#: The last alert email about a stopped sweep (so one outage sends one email, not one a minute).
ALERT_SWEEP = "alert:sweep"

#: Celery task name -> heartbeat name.
TASK_HEARTBEATS = {
    "notifications.tasks.sweep_deadlines_task": SWEEP,
    "audit.tasks.audit_seal_task": AUDIT_SEAL,
    "audit.tasks.audit_checkpoint_task": AUDIT_CHECKPOINT,
}

#: How old each heartbeat may be before readiness (and the watchdog) call it stale (SPEC §7:
#: a sweep in the last 5 minutes, the audit sealed within a minute).
MAX_AGE = {SWEEP: dt.timedelta(minutes=5), AUDIT_SEAL: dt.timedelta(minutes=1)}


def heartbeat_record(name: str, *, at: dt.datetime | None = None) -> None:
    at = at or timezone.now()
    with transaction.atomic():
        updated = Heartbeat.objects.filter(name=name).update(at=at)
        if not updated:
            try:
                with transaction.atomic():
                    Heartbeat.objects.create(name=name, at=at)
            except IntegrityError:  # another process created it meanwhile
                Heartbeat.objects.filter(name=name).update(at=at)


def heartbeat_last(name: str) -> dt.datetime | None:
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def heartbeat_age(name: str, *, now: dt.datetime | None = None) -> dt.timedelta | None:
    at = heartbeat_last(name)
    return None if at is None else (now or timezone.now()) - at


def heartbeat_fresh(name: str, *, now: dt.datetime | None = None) -> bool:
    age = heartbeat_age(name, now=now)
    return age is not None and age <= MAX_AGE[name]


def heartbeat_claim(name: str, *, not_since: dt.datetime, now: dt.datetime | None = None) -> bool:
    """True for exactly one caller when `name` last beat before `not_since` (or never), and
    records the beat: many workers run the watchdog, one of them sends the email."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            if Heartbeat.objects.filter(name=name, at__lt=not_since).update(at=now):
                return True
            _, created = Heartbeat.objects.get_or_create(name=name, defaults={"at": now})
            return created
    except (IntegrityError, DatabaseError):
        return False
