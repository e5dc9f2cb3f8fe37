"""The watchdog (SPEC §7: a beat or worker that stops is noticed and system admins are told).

The worst failure of a reminder system is the quiet one: if beat stops, nothing is swept, no
reminder is sent and nothing errors. `watchdog_check` looks at the sweep's heartbeat; when the
last completed sweep is older than 5 minutes it writes an alert line (logger `ops.alert`, level
ERROR) and emails the system admins — once per outage and then at most once an hour, however
many workers run the check. The email names the part that stopped and when it last ran: no
case, person or deadline detail.

Who runs it: every worker, on a timer of its own started when the worker is ready
(ops/signals.py) — beat cannot watch itself — and beat as well (`ops.tasks.watchdog_task`);
cron or Kubernetes through `manage.py check_liveness --notify`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import close_old_connections
from django.utils import timezone

from core.permissions import Role

from .heartbeats import (
    ALERT_SWEEP,
    AUDIT_SEAL,
    MAX_AGE,
    SWEEP,
    heartbeat_age,
    heartbeat_claim,
    heartbeat_last,
    heartbeat_record,
)

alert_log = logging.getLogger("ops.alert")
logger = logging.getLogger(__name__)

#: The first time any watchdog ran here: a fresh deployment that has never swept is given the
#: same 5 minutes from then before it counts as stopped.
WATCHING_SINCE = "watchdog:since"
REALERT_EVERY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class WatchdogResult:
    sweep_ok: bool
    seal_ok: bool
    sweep_age: dt.timedelta | None
    alerted: bool


def _minutes(age: dt.timedelta | None) -> str:
    return "never" if age is None else f"{int(age.total_seconds() // 60)} min ago"


def _system_admin_emails() -> list[str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    admins = users.filter(role=Role.SYSTEM_ADMIN) | users.filter(is_superuser=True)
    return sorted(set(admins.values_list("email", flat=True)))


def _send_sweep_alert(age: dt.timedelta | None, last: dt.datetime | None) -> None:
    since = "has never completed" if last is None else f"last completed at {last:%Y-%m-%d %H:%M} UTC ({_minutes(age)})"
    body = (
        f"The deadline sweep {since}.\n\n"
        "While it is stopped no reminder or escalation is sent and no deadline is marked missed.\n"
        "Check that the beat process (celery beat) is running and that a worker consumes the queue;\n"
        f"{settings.HARBOR_BASE_URL.rstrip('/')}/health/ready/ names the failing part.\n\n"
        "This message carries no case detail. It is sent again hourly while the sweep stays stopped."
    )
    recipients = _system_admin_emails()
    if recipients:
        send_mail("[Safe Harbor] ALERT: reminders stopped (no sweep for 5 minutes)", body, None, recipients)


def watchdog_check(*, notify: bool = True, now: dt.datetime | None = None) -> WatchdogResult:
    now = now or timezone.now()
    if heartbeat_last(WATCHING_SINCE) is None:
        heartbeat_record(WATCHING_SINCE, at=now)
    last = heartbeat_last(SWEEP)
    age = heartbeat_age(SWEEP, now=now)
    if last is None:
        since = heartbeat_last(WATCHING_SINCE) or now
        sweep_ok = now - since <= MAX_AGE[SWEEP]
    else:
        sweep_ok = age is not None and age <= MAX_AGE[SWEEP]
    seal_age = heartbeat_age(AUDIT_SEAL, now=now)
    seal_ok = seal_age is not None and seal_age <= MAX_AGE[AUDIT_SEAL]
    alerted = False
    if not sweep_ok:
        alert_log.error("ALERT sweep stopped: last completed sweep %s", _minutes(age), extra={"alert": "sweep_stopped"})
        # One alert per outage (none since the last sweep), then hourly.
        not_since = max(last or dt.datetime.min.replace(tzinfo=dt.UTC), now - REALERT_EVERY)
        if notify and heartbeat_claim(ALERT_SWEEP, not_since=not_since, now=now):
            _send_sweep_alert(age, last)
            alerted = True
    if not seal_ok:
        alert_log.error("ALERT audit seal late: last seal %s", _minutes(seal_age), extra={"alert": "audit_seal_late"})
    return WatchdogResult(sweep_ok=sweep_ok, seal_ok=seal_ok, sweep_age=age, alerted=alerted)


# --- the worker's own timer -----------------------------------------------------------------------

_timer_lock = threading.Lock()
_timer: threading.Thread | None = None


def _loop(stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        try:
            watchdog_check()
        except Exception as exc:  # never kill the thread: the next round tries again
            logger.warning("watchdog check failed (%s)", type(exc).__name__)
        finally:
            close_old_connections()


def watchdog_timer_start(*, interval: float | None = None) -> threading.Event:
    """Start the worker's watchdog thread (once per process); returns the event that stops it."""
    global _timer
    stop = threading.Event()
    with _timer_lock:
        if _timer is not None and _timer.is_alive():
            return stop
        seconds = float(interval if interval is not None else getattr(settings, "HARBOR_WATCHDOG_INTERVAL", 60))
        _timer = threading.Thread(target=_loop, args=(stop, seconds), name="harbor-watchdog", daemon=True)
        _timer.start()
    return stop
