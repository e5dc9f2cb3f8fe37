"""Real Celery workers, as separate processes, for the fault tests.

Each test gets its own queue (so parallel runs and other suites never take its messages), a
directory the workers' file email backend writes into (so emails can be counted per
notification id, from the X-Harbor-Notification header), and workers pointed at the test
database that pytest-django created (`test_<name>`, read back from the live connection).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
HEADER = re.compile(rb"^X-Harbor-Notification: (\d+)\r?$", re.MULTILINE)


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, step: float = 0.05) -> None:
    """Poll a real process's progress (these tests cannot freeze time for another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def database_url_for_workers(*, host: str | None = None, port: int | None = None) -> str:
    """The URL of the database this test runs against (pytest-django's test_<name>)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{host or s['HOST'] or '127.0.0.1'}:{port or s['PORT'] or 5432}/{s['NAME']}"


def redis_url() -> str:
    return os.environ["REDIS_URL"]


class Harness:
    def __init__(self, tmp_path: Path, queue: str | None = None):
        self.queue = queue or f"harbor-test-{uuid.uuid4().hex[:12]}"
        self.tmp = tmp_path
        self.outbox = tmp_path / "mail"
        self.outbox.mkdir(exist_ok=True)
        self.workers: list[tuple[subprocess.Popen, Path]] = []

    # --- workers ------------------------------------------------------------------------------

    def start_worker(self, *, database_url: str | None = None, concurrency: int = 2, **env: str) -> subprocess.Popen:
        log = self.tmp / f"worker-{len(self.workers)}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
            "DATABASE_URL": database_url or database_url_for_workers(),
            "REDIS_URL": redis_url(),
            "CELERY_BROKER_URL": redis_url(),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.outbox),
            "HARBOR_NOTIFICATIONS_QUEUE": self.queue,
            "LOG_LEVEL": "INFO",
            **env,
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "-Q",
            self.queue,
            "-n",
            f"{self.queue}-{len(self.workers)}@%h",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )  # noqa: S603
        self.workers.append((proc, log))
        wait_until(
            lambda: b" ready." in log.read_bytes() or proc.poll() is not None, timeout=30, what="the worker to start"
        )
        assert proc.poll() is None, log.read_text()[-3000:]
        return proc

    def log(self, proc: subprocess.Popen) -> str:
        return next(path for p, path in self.workers if p is proc).read_text(errors="replace")

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children (its process group): nothing runs on."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc, _ in self.workers:
            if proc.poll() is None:
                self.kill(proc)
        self._purge_broker()

    def _purge_broker(self) -> None:
        """Leave nothing behind in Redis: this test's queue and its unacknowledged messages."""
        import redis

        client = redis.Redis.from_url(redis_url())
        client.delete(self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        for tag, raw in client.hscan_iter("unacked"):
            try:
                _, _, routing_key = json.loads(raw)
            except (ValueError, TypeError):
                continue
            if routing_key == self.queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)

    # --- emails ---------------------------------------------------------------------------------

    def emails(self) -> collections.Counter[int]:
        """How many emails the workers sent, per notification id."""
        counts: collections.Counter[int] = collections.Counter()
        for path in self.outbox.iterdir():
            counts.update(int(m) for m in HEADER.findall(path.read_bytes()))
        return counts


class FlakyProxy:
    """A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones
    for a while: the database, briefly unreachable, as a worker sees it."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.refused = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                self.refused += 1
                client.close()
                continue
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update({client, server})
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def down(self) -> None:
        self.up.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self._closed = True
        self.down()
        self.listener.close()


def due_notifications(*, deadlines: int, team_size: int, hours_ago: float = 49) -> list[int]:
    """`deadlines` referral deadlines of a case whose DCFS team has `team_size` people, each
    with its upcoming reminder due now; sweeps nothing. Returns the deadline ids."""
    from accounts.models import Agency
    from cases.models import Case, CaseTeamMember, Referral, Youth
    from notifications.services.deadlines import deadline_open
    from tests.factories import UserFactory

    dcfs, _ = Agency.objects.get_or_create(code="DCFS", defaults={"name": "DCFS"})
    team = [UserFactory(username=f"worker{i}", agency=dcfs, role="case_worker") for i in range(team_size)]
    youth = Youth.objects.create(first_name="Fault", last_name="Tolerance", holding_agency=dcfs, created_by=team[0])
    case = Case.objects.create(youth=youth, number=f"H-2026-{uuid.uuid4().int % 10**6:06d}", lead_agency=dcfs)
    CaseTeamMember.objects.bulk_create(
        CaseTeamMember(case=case, user=u, case_role="social_worker", added_by=u) for u in team
    )
    now = timezone.now()
    referrals = Referral.objects.bulk_create(
        Referral(
            youth=youth,
            referring_agency=dcfs,
            receiving_agency=dcfs,
            created_by=team[0],
            received_at=now,
            source="law_enforcement_recovery",
            recovered_at=now - dt.timedelta(hours=hours_ago),
            case=case,
        )
        for _ in range(deadlines)
    )
    # frp_services_72h: upcoming at 48 h; the creator and the DCFS case team are reminded.
    return [
        deadline_open(rule_code="frp_services_72h", target=r, starts_at=now - dt.timedelta(hours=hours_ago)).pk
        for r in referrals
    ]


def pending_ids() -> list[int]:
    from notifications.models import Notification

    return list(Notification.objects.filter(delivery_status="pending").order_by("id").values_list("id", flat=True))


def all_sent(expected: int) -> Callable[[], bool]:
    from notifications.models import Notification

    return lambda: Notification.objects.filter(delivery_status="sent").count() >= expected


def assert_exactly_once(harness: Harness, expected_ids: list[int]) -> None:
    from notifications.models import Notification

    counts = harness.emails()
    doubled = {pk: n for pk, n in counts.items() if n > 1}
    assert not doubled, f"sent more than once: {doubled}"
    assert set(counts) == set(expected_ids), f"missing: {sorted(set(expected_ids) - set(counts))[:20]}"
    statuses = collections.Counter(
        Notification.objects.filter(pk__in=expected_ids).values_list("delivery_status", flat=True)
    )
    assert statuses == {"sent": len(expected_ids)}, statuses


def now_plus(**delta: Any) -> dt.datetime:
    return timezone.now() + dt.timedelta(**delta)
