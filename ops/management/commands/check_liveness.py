"""`manage.py check_liveness`: exit 0 when the service does its periodic work, 1 when not.

For cron (`check_liveness --notify` every few minutes: the system admins get the watchdog's
email) or a Kubernetes liveness/readiness probe (`exec: [python, manage.py, check_liveness]`
on the beat pod; add `--worker` on a worker pod). Checks the database, a sweep completed in the
last 5 minutes and the audit seal in the last minute; `--worker` also needs the broker and a
worker answering a ping. Prints one line naming what failed; never a secret.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ops.checks import OK, check_broker, check_database, check_heartbeat, check_worker, failing
from ops.heartbeats import AUDIT_SEAL, SWEEP
from ops.watchdog import watchdog_check


class Command(BaseCommand):
    help = "Exit non-zero when the sweep or the audit seal has stopped (and, with --worker, no worker answers)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--notify", action="store_true", help="email the system admins as the watchdog does")
        parser.add_argument("--worker", action="store_true", help="also check the broker and a worker's ping")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        checks = {"database": check_database()}
        checks["sweep"] = check_heartbeat(SWEEP) if checks["database"] == OK else "unknown"
        checks["audit_seal"] = check_heartbeat(AUDIT_SEAL) if checks["database"] == OK else "unknown"
        if options["worker"]:
            from celery import current_app

            checks["broker"] = check_broker(current_app)
            checks["worker"] = check_worker(current_app) if checks["broker"] == OK else "unknown"
        if options["notify"] and checks["database"] == OK:
            watchdog_check(notify=True)
        bad = failing(checks)
        if bad:
            raise CommandError("NOT LIVE: " + ", ".join(f"{name} {checks[name]}" for name in bad))
        self.stdout.write("LIVE: " + ", ".join(f"{name} ok" for name in checks))
