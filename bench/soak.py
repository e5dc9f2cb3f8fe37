"""`make soak`: a bounded load on the real stack while it is broken on purpose, and what survived.

1. Its own PostgreSQL database (`safe_harbor_soak`, on the server DATABASE_URL names; created,
   migrated, bootstrapped and given the tiny synthetic seed, `seed_scale --size tiny`) and its
   own Redis: a private `redis-server` on a free loopback port (no persistence), so the soak
   can restart it without touching anyone else's Redis.
2. The real processes, as production runs them, with config.settings.soak (the bench settings,
   connections as production has them, email into files): gunicorn (2 workers), two Celery
   workers (`celery -A config worker`), beat (`celery -A config beat`, django-celery-beat's
   database scheduler).
3. Reminders that come due during the run: the written-report rule of the soak's database is
   shortened (upcoming, due and overdue `--spacing` seconds apart) and the load's referral
   creates open that clock through the API, so every referral made early enough has reminder
   stages due before the end.
4. `--clients` (8) threads, as real users with real tokens, for `--seconds` (SOAK_SECONDS,
   600): case workers read their cases, case details, notes and deadlines and write notes;
   supervisors read the case, referral and deadline lists; Sheriff deputies create referrals
   (at most one a `--create-every` seconds) and read theirs. `/health/ready/` is polled every
   second.
5. Faults, each once, at fixed fractions of the run: a Celery worker is SIGKILLed (and started
   again after a few seconds, as a supervisor would), the private Redis is stopped and started
   (its queue is lost with it), and every connection to the soak's database is dropped
   (`pg_terminate_backend`, for that database only). Each one's window is recorded.
6. The end: the load stops, two sweeps must complete after it, every pending notification must
   be sent (the redeliver step recovers what the faults lost) and the queue drained (bounded),
   readiness must be 200 again; the processes stop and `manage.py audit_verify --seal` runs.
7. The figure: requests, 5xx inside the database drop (expected) and any other error, faults
   survived, reminders expected, sent, lost and doubled — counted from the database (the
   notification rows of the deadlines opened during the run, at most one per (deadline, stage,
   recipient) by their unique constraint) and from the mail files (one email per notification
   id, the X-Harbor-Notification header). Exit status 0 only when every check holds.

Everything is synthetic and on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402 - bench/run.py: database creation, manage.py, free ports, login

OUT = ROOT / "var" / "soak"
DB_NAME = "safe_harbor_soak"
SETTINGS = "config.settings.soak"
#: The rule whose clock the load's referral creates open, shortened in the soak's database.
RULE = "written_report_36h"
#: (fault, fraction of the run at which it is injected)
FAULTS = (("worker_kill", 0.2), ("redis_restart", 0.45), ("db_drop", 0.7))
#: How long each fault's window stays open after the fault is repaired (requests that overlap
#: the database drop's window may fail with a 5xx; no other may).
DB_DROP_GRACE_S = 3.0
REDIS_DOWN_S = 5.0
WORKER_DOWN_S = 3.0
SWEEP_S = 10.0
REDELIVER_S = 20.0


def log(msg: str) -> None:
    print(f"[soak {dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


# --- environment ----------------------------------------------------------------------------------------


def soak_database_url() -> str:
    """The soak's own database, on the server DATABASE_URL points at (loopback by default)."""
    if os.environ.get("SOAK_DATABASE_URL"):
        return os.environ["SOAK_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{DB_NAME}", parts.query, ""))


def soak_env(database_url: str, redis_port: int, run_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "EMAIL_FILE_PATH": str(run_dir / "mail"),
            "HARBOR_AUDIT_CHECKPOINT_FILE": str(OUT / "audit_checkpoints.jsonl"),
            "SOAK_SWEEP_SECONDS": str(SWEEP_S),
            "SOAK_REDELIVER_SECONDS": str(REDELIVER_S),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def admin_params(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    params: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "dbname": "postgres",
        "connect_timeout": 5,
    }
    if parts.password:
        params["password"] = parts.password
    return params


def database_exists(url: str) -> bool:
    import psycopg

    with psycopg.connect(**admin_params(url), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone() is not None


def drop_connections(url: str) -> int:
    """pg_terminate_backend every connection to the soak's database (and no other)."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(**admin_params(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
    return int(row[0]) if row else 0


# --- processes ---------------------------------------------------------------------------------------------


class Proc:
    """One child process in a session of its own (so stopping it stops its children), its
    output in a log file of the run."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path):
        self.name, self.cmd, self.env, self.log_path = name, cmd, env, log_path
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        out = open(self.log_path, "a")  # noqa: SIM115 - lives as long as the process
        out.write(f"==== start {self.starts + 1} at {dt.datetime.now(dt.UTC).isoformat()}\n")
        out.flush()
        self.popen = subprocess.Popen(  # noqa: S603 - our own venv's programs
            self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        self.starts += 1

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, no warning: what an out-of-memory killer or a lost host does."""
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


class Stack:
    def __init__(self, env: dict[str, str], run_dir: Path, redis_port: int, web_port: int):
        self.env, self.run_dir, self.redis_port, self.web_port = env, run_dir, redis_port, web_port
        self.redis = Proc(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(run_dir),
                "--loglevel",
                "warning",
            ],
            env,
            run_dir / "redis.log",
        )
        self.web = Proc(
            "gunicorn",
            python_cmd(
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--keep-alive",
                "30",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ),
            env,
            run_dir / "gunicorn.log",
        )
        self.workers = [
            Proc(
                f"worker{i}",
                python_cmd(
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "-n",
                    f"soak{i}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "WARNING",
                ),
                env,
                run_dir / f"worker{i}.log",
            )
            for i in range(2)
        ]
        self.beat = Proc(
            "beat",
            python_cmd("-m", "celery", "-A", "config", "beat", "-l", "WARNING"),
            env,
            run_dir / "beat.log",
        )

    def all(self) -> list[Proc]:
        return [self.beat, *self.workers, self.web, self.redis]

    def start(self) -> None:
        self.redis.start()
        wait_redis(self.redis_port)
        for proc in (self.web, *self.workers, self.beat):
            proc.start()
        bench.wait_health(self.web_port, limit_s=90)

    def stop(self) -> None:
        for proc in self.all():
            proc.stop()

    def died(self) -> list[str]:
        return [p.name for p in self.all() if p.popen is not None and not p.alive()]


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_redis(port: int, limit_s: float = 20) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if redis_ping(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"the soak's redis-server on port {port} did not answer")


def free_port() -> int:
    return bench.free_port()


# --- load ----------------------------------------------------------------------------------------------------


@dataclass
class Req:
    name: str
    start: float  # wall clock (time.time()), to compare with the fault windows
    end: float
    status: int  # 0: no response (connection refused, reset, timeout)


@dataclass
class Window:
    name: str
    start: float
    end: float
    detail: str = ""
    ok: bool = True


@dataclass
class Load:
    port: int
    tokens: dict[str, str]
    fx: Any
    stop_at: float
    create_every: float
    think_s: float
    requests: list[Req] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_create: float = 0.0
    created: int = 0

    def _referral_body(self, i: int) -> dict[str, Any]:
        person = self.fx.new_people[i % len(self.fx.new_people)]
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return {
            "youth": {
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "date_of_birth": person["date_of_birth"],
                "aliases": person["aliases"],
            },
            "received_at": now.isoformat(),
            "source": "hotline",
            # The written-report clock starts at the telephone report: now, so its (shortened)
            # reminder stages fall due during the run.
            "hotline_reported_at": now.isoformat(),
            "indicators": ["runaway_or_homeless", "online_solicitation"],
            "narrative": "Synthetic soak referral.",
        }

    def _pick(self, role: str, rng: random.Random) -> tuple[str, str, str, Any]:
        case = f"/api/v1/cases/{self.fx.case_id}"
        if role == "deputy":
            with self.lock:
                now = time.monotonic()
                create = now >= self.next_create
                if create:
                    self.next_create = max(self.next_create + self.create_every, now)
                    self.created += 1
                    n = self.created
            if create:
                return "referral create", "POST", "/api/v1/referrals/", self._referral_body(n)
            return rng.choice(
                [
                    ("referral list", "GET", "/api/v1/referrals/", None),
                    ("deadlines list", "GET", "/api/v1/deadlines/?status=open", None),
                ]
            )
        if role == "supervisor":
            return rng.choice(
                [
                    ("case list (supervisor)", "GET", "/api/v1/cases/", None),
                    ("referral list (supervisor)", "GET", "/api/v1/referrals/", None),
                    ("deadlines list (supervisor)", "GET", "/api/v1/deadlines/?status=open", None),
                ]
            )
        return rng.choices(
            [
                ("case list", "GET", "/api/v1/cases/", None),
                ("case detail", "GET", f"{case}/", None),
                ("notes", "GET", f"{case}/notes/", None),
                ("note create", "POST", f"{case}/notes/", {"body": "Synthetic soak note.", "visibility": "team"}),
                ("deadlines list", "GET", "/api/v1/deadlines/?status=open", None),
                ("notification inbox", "GET", "/api/v1/notifications/", None),
            ],
            weights=[3, 3, 2, 1, 1, 1],
        )[0]

    def client(self, role: str, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - synthetic load
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Token {self.tokens[role]}", "Content-Type": "application/json"}
        while time.time() < self.stop_at:
            name, method, path, body = self._pick(role, rng)
            payload = json.dumps(body) if body is not None else None
            started = time.time()
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status = 0
            with self.lock:
                self.requests.append(Req(name, started, time.time(), status))
            if self.think_s:
                time.sleep(self.think_s * rng.uniform(0.5, 1.5))
        conn.close()


ROLES = ["worker", "worker", "worker", "supervisor", "deputy", "worker", "supervisor", "deputy"]


@dataclass
class Probe:
    t: float  # when the probe was sent …
    status: int
    failing: list[str]
    end: float = 0.0  # … and answered: a fault that began meanwhile may be what it saw

    def during(self, w: Window) -> bool:
        return self.t <= w.end + 10 and max(self.end, self.t) >= w.start


def poll_ready(port: int, until: threading.Event, out: list[Probe]) -> None:
    """GET /health/ready/ every second (a new connection each time, as a load balancer does)."""
    while not until.is_set():
        started = time.time()
        status, failing = 0, ["no_response"]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health/ready/")
            resp = conn.getresponse()
            status = resp.status
            try:
                failing = json.loads(resp.read()).get("failing", [])
            except ValueError:
                failing = ["unreadable"]
            conn.close()
        except (OSError, http.client.HTTPException):
            pass
        out.append(Probe(started, status, failing, time.time()))
        until.wait(max(0.0, 1.0 - (time.time() - started)))


def wait_ready(port: int, limit_s: float) -> list[str]:
    deadline = time.monotonic() + limit_s
    failing: list[str] = ["no_response"]
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health/ready/")
            resp = conn.getresponse()
            body = json.loads(resp.read())
            if resp.status == 200:
                return []
            failing = body.get("failing", [])
        except (OSError, http.client.HTTPException, ValueError):
            failing = ["no_response"]
        time.sleep(1)
    return failing


# --- faults ---------------------------------------------------------------------------------------------------


def fault_worker_kill(stack: Stack) -> Window:
    victim = stack.workers[0]
    start = time.time()
    victim.kill()
    time.sleep(WORKER_DOWN_S)
    victim.start()  # as a supervisor (systemd, Kubernetes) would
    return Window("worker_kill", start, time.time() + 5, f"SIGKILL {victim.name}, started again")


def fault_redis_restart(stack: Stack) -> Window:
    start = time.time()
    stack.redis.stop()
    time.sleep(REDIS_DOWN_S)
    stack.redis.start()
    wait_redis(stack.redis_port)
    return Window("redis_restart", start, time.time() + 5, f"stopped, down {REDIS_DOWN_S:.0f} s, started (empty)")


def fault_db_drop(database_url: str) -> Window:
    start = time.time()
    n = drop_connections(database_url)
    return Window("db_drop", start - 0.5, time.time() + DB_DROP_GRACE_S, f"pg_terminate_backend: {n} connections")


# --- the figure ------------------------------------------------------------------------------------------------

EMAIL_ID = re.compile(rb"^X-Harbor-Notification: (\d+)\r?$", re.MULTILINE)


def emails_by_notification(mail_dir: Path) -> Counter[int]:
    """How many emails each notification id got, from every file the file backend wrote."""
    counts: Counter[int] = Counter()
    if mail_dir.is_dir():
        for path in mail_dir.iterdir():
            counts.update(int(m) for m in EMAIL_ID.findall(path.read_bytes()))
    return counts


def reminder_figure(*, first_deadline_id: int, cutoff: dt.datetime, emails: Counter[int]) -> dict[str, Any]:
    """Every reminder stage due by `cutoff` of the deadlines opened during the run, and what became
    of it: each (deadline, stage) must have its notifications (one per recipient), each of them
    sent (or inbox-only, by the recipient's choice), each sent one emailed exactly once."""
    from django.db.models import Count

    from notifications.models import Deadline, Notification

    deadlines = list(Deadline.objects.filter(pk__gte=first_deadline_id))
    expected: list[tuple[int, str]] = []
    superseded = 0
    passed_over: set[tuple[int, str]] = set()
    for d in deadlines:
        closed_at = next((t for t in (d.waived_at, d.cancelled_at, d.settled_at) if t is not None), None)
        if d.status == Deadline.Status.MET and d.recorded_at is not None:
            closed_at = d.recorded_at
        for s in d.superseded_stages or []:
            passed_over.add((d.pk, s["stage"]))
        for stage, at in d.stage_times():
            if at <= cutoff and (closed_at is None or at < closed_at):
                expected.append((d.pk, stage))
    rows = defaultdict(list)
    for n in Notification.objects.filter(deadline_id__gte=first_deadline_id).values(
        "id", "deadline_id", "stage", "recipient_id", "delivery_status"
    ):
        rows[(n["deadline_id"], n["stage"])].append(n)
    lost_stages = 0
    notifications = sent = inbox_only = pending = failed = unemailed = doubled = 0
    for key in expected:
        group = rows.get(key, [])
        if not group:
            if key in passed_over:
                superseded += 1  # SPEC §3: overtaken while no sweep ran, recorded, not sent late
            else:
                lost_stages += 1
            continue
        for n in group:
            notifications += 1
            status = n["delivery_status"]
            if status == Notification.Delivery.SENT:
                count = emails.get(n["id"], 0)
                if count == 0:
                    unemailed += 1
                elif count == 1:
                    sent += 1
                else:
                    doubled += 1
            elif status == Notification.Delivery.INBOX_ONLY:
                inbox_only += 1
            elif status == Notification.Delivery.PENDING:
                pending += 1
            else:
                failed += 1
    # Across every notification (not only the run's): an id emailed twice, a row that is not
    # "sent" but was emailed, a (deadline, stage, recipient) twice (the constraint forbids it).
    emailed_ids = set(emails)
    statuses = dict(Notification.objects.filter(pk__in=emailed_ids).values_list("id", "delivery_status"))
    emailed_not_sent = sum(1 for pk in emailed_ids if statuses.get(pk) != Notification.Delivery.SENT)
    duplicate_rows = (
        Notification.objects.filter(deadline__isnull=False)
        .values("deadline_id", "stage", "recipient_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "deadlines_opened": len(deadlines),
        "stages_expected": len(expected),
        "stages_without_notification": lost_stages,
        "stages_superseded": superseded,
        "notifications": notifications,
        "sent": sent,
        "inbox_only": inbox_only,
        "pending": pending,
        "failed": failed,
        "sent_without_email": unemailed,
        "doubled": doubled,
        "emails_total": sum(emails.values()),
        "emails_doubled": sum(1 for c in emails.values() if c > 1),
        "emailed_not_marked_sent": emailed_not_sent,
        "duplicate_rows": duplicate_rows,
        "lost": lost_stages + pending + failed + unemailed,
    }


def overlaps(r: Req, w: Window) -> bool:
    return r.start <= w.end and r.end >= w.start


def request_figure(requests: list[Req], windows: list[Window]) -> dict[str, Any]:
    drop = [w for w in windows if w.name == "db_drop"]
    redis = [w for w in windows if w.name == "redis_restart"]
    statuses: Counter[int] = Counter(r.status for r in requests)
    bad = [r for r in requests if r.status >= 500 or r.status == 0]
    expected = [r for r in bad if any(overlaps(r, w) for w in drop)]
    unexpected = [r for r in bad if not any(overlaps(r, w) for w in drop)]
    in_redis = [r for r in unexpected if any(overlaps(r, w) for w in redis)]
    by_name: Counter[str] = Counter(f"{r.name} {r.status}" for r in unexpected)
    return {
        "requests": len(requests),
        "statuses": dict(sorted(statuses.items())),
        "client_errors_4xx": sum(n for s, n in statuses.items() if 400 <= s < 500),
        "errors_in_db_drop": len(expected),
        "errors_unexpected": len(unexpected),
        "errors_in_redis_restart": len(in_redis),
        "errors_outside_faults": sum(1 for r in unexpected if not any(overlaps(r, w) for w in windows)),
        "unexpected_by_endpoint": dict(by_name.most_common(10)),
        "unexpected_at": [
            {"name": r.name, "status": r.status, "at": dt.datetime.fromtimestamp(r.start, dt.UTC).isoformat()}
            for r in unexpected[:10]
        ],
    }


def readiness_figure(probes: list[Probe], windows: list[Window], load_start: float, final_ok: bool) -> dict[str, Any]:
    during = [p for p in probes if p.t >= load_start]
    red = [p for p in during if p.status != 200]
    red_in: dict[str, list[str]] = {}
    for p in red:
        begun = [w for w in windows if p.during(w)]
        if begun:
            name = max(begun, key=lambda w: w.start).name
            red_in[name] = sorted({*red_in.get(name, []), *p.failing})
    return {
        "probes": len(during),
        "red_probes": len(red),
        "red_during_faults": red_in,
        "red_outside_faults": sum(1 for p in red if not any(p.during(w) for w in windows)),
        "red": [
            {
                "at": dt.datetime.fromtimestamp(p.t, dt.UTC).isoformat(),
                "status": p.status,
                "failing": p.failing,
                "in_fault": any(p.during(w) for w in windows),
            }
            for p in red[:100]
        ],
        "went_red": bool(red_in),
        "green_at_end": final_ok,
    }


def audit_verify(env: dict[str, str]) -> tuple[bool, str]:
    proc = subprocess.run(  # noqa: S603
        python_cmd("manage.py", "audit_verify", "--seal"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    text = (proc.stdout.strip() or proc.stderr.strip().splitlines()[-1:] or [""])[0] if proc.returncode else proc.stdout
    return proc.returncode == 0 and proc.stdout.startswith("OK"), text.strip()


def render(fig: dict[str, Any]) -> str:
    r, m, ready, req = fig["reminders"], fig["checks"], fig["readiness"], fig["requests"]
    faults = ", ".join(f"{w['name']} ({w['detail']})" for w in fig["faults"])
    outside = "/".join(sorted({f for p in ready["red"] if not p.get("in_fault") for f in p["failing"]}))
    red = ", ".join(f"{name}: {'/'.join(parts)}" for name, parts in ready["red_during_faults"].items())
    lines = [
        f"soak: {fig['seconds']:.0f} s, {fig['clients']} clients, {fig['date']}",
        f"faults: {faults}",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| requests | {req['requests']:,} |",
        f"| 5xx during the database drop (expected) | {req['errors_in_db_drop']} |",
        f"| errors (any other 5xx or no response) | {req['errors_unexpected']} |",
        f"|   of them during the Redis restart | {req['errors_in_redis_restart']} |",
        f"| 4xx | {req['client_errors_4xx']} |",
        f"| faults survived | {fig['faults_survived']}/{len(fig['faults'])} |",
        f"| reminders expected (deadline stages due) | {r['stages_expected']} |",
        f"| notifications of those stages | {r['notifications']} |",
        f"| sent (emailed once) | {r['sent']} |",
        f"| inbox only (by preference) | {r['inbox_only']} |",
        f"| passed over (SPEC §3: overtaken by a later stage while no sweep ran) | {r['stages_superseded']} |",
        f"| lost | {r['lost']} |",
        f"| doubled | {r['doubled'] + r['emails_doubled'] + r['duplicate_rows']} |",
        f"| readiness red during faults | {red or 'never'} |",
        f"| readiness red outside the faults (probes) | {ready['red_outside_faults']} {outside} |",
        f"| readiness green at the end | {'yes' if ready['green_at_end'] else 'NO'} |",
        f"| audit_verify | {fig['audit']} |",
        "",
        "checks: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in m.items()),
    ]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------------------------


def create_database(database_url: str) -> None:
    fresh = not database_exists(database_url)
    bench.ensure_database(database_url)
    checkpoints = OUT / "audit_checkpoints.jsonl"
    if fresh and checkpoints.exists():
        checkpoints.unlink()  # checkpoints of a database that no longer exists


def setup() -> None:
    """In this process (one Django start-up instead of three)."""
    from io import StringIO

    from django.core.management import call_command

    log("setup: migrate, bootstrap, seed_scale --size tiny (finished stages are skipped)")
    for args in (("migrate", "--noinput", "-v", "0"), ("bootstrap",), ("seed_scale", "--size", "tiny", "--quiet")):
        call_command(*args, stdout=StringIO())


def shorten_rule(spacing: float) -> None:
    """The written report's clock in the soak's database: upcoming, due and overdue `spacing`
    seconds apart (what a system admin's edit of the rule does; deadlines already open keep
    theirs)."""
    from notifications.models import DeadlineRule

    DeadlineRule.objects.filter(code=RULE).update(
        offset=dt.timedelta(seconds=2 * spacing),
        upcoming_fraction=0.5,
        overdue_after=dt.timedelta(seconds=spacing),
        is_active=True,
    )


def wait_sweeps_after(cutoff: dt.datetime, n: int, limit_s: float) -> int:
    """Wait (bounded) until `n` sweeps have completed after `cutoff`; the second one started
    after the first had finished, so after the cutoff. Returns how many were seen."""
    from django.db import close_old_connections

    from ops.heartbeats import SWEEP, heartbeat_last

    seen: set[dt.datetime] = set()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and len(seen) < n:
        close_old_connections()
        try:
            at = heartbeat_last(SWEEP)
        except Exception:
            at = None
        if at is not None and at > cutoff:
            seen.add(at)
        time.sleep(0.5)
    return len(seen)


def wait_drained(redis_port: int, limit_s: float) -> tuple[int, int]:
    """Wait (bounded) until no notification is pending and the Celery queue is empty."""
    import redis as redis_lib
    from django.db import close_old_connections

    from notifications.models import Notification

    client = redis_lib.Redis(host="127.0.0.1", port=redis_port, socket_timeout=2)
    deadline = time.monotonic() + limit_s
    pending = queued = -1
    while time.monotonic() < deadline:
        close_old_connections()
        pending = Notification.objects.filter(delivery_status=Notification.Delivery.PENDING).count()
        try:
            queued = int(client.llen("celery"))
        except redis_lib.RedisError:
            queued = -1
        if pending == 0 and queued == 0:
            break
        time.sleep(1)
    return pending, queued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--create-every", type=float, default=1.0, help="seconds between two referral creates")
    parser.add_argument("--think", type=float, default=0.05, help="mean pause of a client between requests (s)")
    parser.add_argument("--spacing", type=float, default=0.0, help="seconds between reminder stages (default: by run)")
    parser.add_argument("--json", default="", help="also write the figure here")
    parser.add_argument("--skip-setup", action="store_true")
    args = parser.parse_args(argv)
    if args.seconds < 30:
        parser.error("--seconds must be at least 30")
    # A SIGTERM (a CI timeout, `kill`) stops the stack on the way out, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on PATH: the soak runs a private one")
    spacing = args.spacing or max(30.0, min(60.0, args.seconds / 10))

    run_dir = OUT / dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    (run_dir / "mail").mkdir(parents=True, exist_ok=True)
    database_url = soak_database_url()
    redis_port, web_port = free_port(), free_port()
    env = soak_env(database_url, redis_port, run_dir)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "EMAIL_FILE_PATH")})
    log(f"run {run_dir.relative_to(ROOT)}: database {urlsplit(database_url).path.lstrip('/')}, redis :{redis_port}")
    if not args.skip_setup:
        create_database(database_url)

    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()
    import inproc
    from django.db import close_old_connections, connection
    from django.utils import timezone

    from notifications.models import Deadline
    from scale.seed import BENCH_PASSWORD

    if not args.skip_setup:
        setup()
    shorten_rule(spacing)
    fx = inproc.pick_fixtures(random.Random(20261201))  # noqa: S311 - synthetic
    first_deadline_id = (Deadline.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    connection.close()

    stack = Stack(env, run_dir, redis_port, web_port)
    probes: list[Probe] = []
    stop_polling = threading.Event()
    windows: list[Window] = []
    load: Load | None = None
    result = 1
    try:
        log(f"stack: redis :{redis_port}, gunicorn :{web_port} (2 workers), 2 celery workers, beat")
        stack.start()
        tokens = {
            "worker": bench.login(web_port, fx.worker, BENCH_PASSWORD),
            "supervisor": bench.login(web_port, fx.supervisor, BENCH_PASSWORD),
            "deputy": bench.login(web_port, fx.deputy, BENCH_PASSWORD),
        }
        failing = wait_ready(web_port, limit_s=120)
        if failing:
            raise SystemExit(f"readiness never went green before the load: {failing}")
        poller = threading.Thread(target=poll_ready, args=(web_port, stop_polling, probes), daemon=True)
        poller.start()

        load_start = time.time()
        load = Load(
            port=web_port,
            tokens=tokens,
            fx=fx,
            stop_at=load_start + args.seconds,
            create_every=args.create_every,
            think_s=args.think,
        )
        log(
            f"load: {args.clients} clients for {args.seconds:.0f} s; reminder stages {spacing:.0f} s apart; "
            f"faults at {', '.join(f'{int(f * 100)}%' for _, f in FAULTS)}"
        )
        clients = [
            threading.Thread(target=load.client, args=(ROLES[i % len(ROLES)], i), daemon=True)
            for i in range(args.clients)
        ]
        for t in clients:
            t.start()
        for name, fraction in FAULTS:
            time.sleep(max(0.0, load_start + fraction * args.seconds - time.time()))
            log(f"fault: {name}")
            if name == "worker_kill":
                w = fault_worker_kill(stack)
            elif name == "redis_restart":
                w = fault_redis_restart(stack)
            else:
                w = fault_db_drop(database_url)
            windows.append(w)
            log(f"       {w.detail}")
        for t in clients:
            t.join(max(1.0, load.stop_at - time.time() + 40))
        cutoff = timezone.now()
        log(f"load done: {len(load.requests):,} requests; waiting for two sweeps, the sends and the queue")

        sweeps = wait_sweeps_after(cutoff, 2, limit_s=3 * SWEEP_S + 60)
        pending, queued = wait_drained(redis_port, limit_s=REDELIVER_S + 120)
        final_failing = wait_ready(web_port, limit_s=90)
        stop_polling.set()
        poller.join(15)
        died = stack.died()
        stack.stop()

        close_old_connections()
        emails = emails_by_notification(run_dir / "mail")
        reminders = reminder_figure(first_deadline_id=first_deadline_id, cutoff=cutoff, emails=emails)
        audit_ok, audit_text = audit_verify(env)
        requests = request_figure(load.requests, windows)
        readiness = readiness_figure(probes, windows, load_start, final_ok=not final_failing)
        survived = sum(1 for w in windows if w.ok) if not died else 0
        checks = {
            "no unexpected 5xx": requests["errors_unexpected"] == 0,
            "0 lost": reminders["lost"] == 0,
            "0 doubled": reminders["doubled"] + reminders["emails_doubled"] + reminders["duplicate_rows"] == 0,
            "every email's row sent": reminders["emailed_not_marked_sent"] == 0,
            "reminders were due": reminders["stages_expected"] > 0,
            "audit verifies": audit_ok,
            "readiness red then green": readiness["went_red"] and readiness["green_at_end"],
            "sweeps after the load": sweeps >= 2,
            "queue drained": pending == 0 and queued == 0,
            "no process died": not died,
        }
        fig = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": args.seconds,
            "clients": args.clients,
            "spacing_s": spacing,
            "run_dir": str(run_dir.relative_to(ROOT)),
            "faults": [w.__dict__ for w in windows],
            "faults_survived": survived,
            "requests": requests,
            "reminders": reminders,
            "readiness": readiness,
            "audit": audit_text,
            "drain": {"sweeps_after_load": sweeps, "pending": pending, "queued": queued, "died": died},
            "checks": checks,
            "ok": all(checks.values()),
        }
        text = render(fig)
        (run_dir / "figure.json").write_text(json.dumps(fig, indent=1, default=str))
        if args.json:
            Path(args.json).write_text(json.dumps(fig, indent=1, default=str))
        print("\n" + text, flush=True)
        if requests["errors_unexpected"]:
            print(f"unexpected errors: {requests['unexpected_by_endpoint']}", flush=True)
        print(f"\nlogs, mail and figure.json in {run_dir.relative_to(ROOT)}/", flush=True)
        result = 0 if fig["ok"] else 1
    finally:
        stop_polling.set()
        if load is not None:
            load.stop_at = 0
        stack.stop()
    return result


if __name__ == "__main__":
    sys.exit(main())
