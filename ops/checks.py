"""What `/health/ready/` and `manage.py check_liveness` check (SPEC §7).

Each check answers "ok" or a short word for what is wrong; never an error message, a host, a
version or a secret.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from .heartbeats import AUDIT_SEAL, SWEEP, heartbeat_fresh, heartbeat_last

OK = "ok"


def check_database() -> str:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception:
        return "unavailable"
    return OK


def check_broker(app: Any) -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return "unavailable"
    return OK


def check_heartbeat(name: str) -> str:
    try:
        if heartbeat_last(name) is None:
            return "never"
        return OK if heartbeat_fresh(name, now=timezone.now()) else "stale"
    except Exception:
        return "unknown"


def check_worker(app: Any, *, timeout: float = 1.0) -> str:
    """A worker answered a broadcast ping (the first reply ends the wait)."""
    try:
        replies = app.control.ping(timeout=timeout, limit=1)
    except Exception:
        return "unknown"
    return OK if replies else "no_reply"


def readiness(app: Any, *, worker_timeout: float = 1.0) -> dict[str, str]:
    """The parts of SPEC §7's readiness, in order. The heartbeat checks need the database."""
    checks = {"database": check_database(), "broker": check_broker(app)}
    checks["sweep"] = check_heartbeat(SWEEP) if checks["database"] == OK else "unknown"
    checks["worker"] = check_worker(app, timeout=worker_timeout) if checks["broker"] == OK else "unknown"
    checks["audit_seal"] = check_heartbeat(AUDIT_SEAL) if checks["database"] == OK else "unknown"
    return checks


def failing(checks: dict[str, str]) -> list[str]:
    return [name for name, state in checks.items() if state != OK]
