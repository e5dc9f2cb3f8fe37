"""Celery signal receivers: a heartbeat when the sweep or the audit seal completes.

Connected in OpsConfig.ready(). The receivers never raise into Celery: a heartbeat that cannot
be written (the database is down) is simply missing, and readiness reports the sweep stale.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_success, worker_ready

from .heartbeats import TASK_HEARTBEATS, heartbeat_record

logger = logging.getLogger(__name__)


@task_success.connect(dispatch_uid="ops.heartbeat_on_success")
def heartbeat_on_success(sender: Any = None, **kwargs: Any) -> None:
    name = TASK_HEARTBEATS.get(getattr(sender, "name", ""))
    if name is None:
        return
    try:
        heartbeat_record(name)
    except Exception as exc:
        logger.warning("heartbeat %s not recorded (%s)", name, type(exc).__name__)


@worker_ready.connect(dispatch_uid="ops.watchdog_on_worker_ready")
def watchdog_on_worker_ready(**kwargs: Any) -> None:
    from django.conf import settings

    if getattr(settings, "HARBOR_WATCHDOG_INTERVAL", 60):
        from .watchdog import watchdog_timer_start

        watchdog_timer_start()
