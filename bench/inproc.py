"""The benchmark's in-process half (Django set up in the bench process): picking the users and
objects each endpoint is driven with, the raw-SQL baseline of a page, EXPLAIN of every list
query, the deadline sweep, Celery delivery throughput and the audit log's share of a write.

Everything here runs against the bench database only and cleans up after itself (scratch work
in a transaction that is rolled back, or rows it created and then deletes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent

#: Tables big enough that a sequential scan of them on a hot path is a finding.
BIG_TABLES = {
    "audit_auditevent",
    "cases_note",
    "cases_referral",
    "cases_youth",
    "cases_youthsearchkey",
    "cases_case",
    "cases_caseagency",
    "cases_caseteammember",
    "notifications_deadline",
    "notifications_notification",
    "mdt_actionitem",
    "mdt_agendaitem",
    "cases_screening",
}


# --- who and what each endpoint is driven with ---------------------------------------------------------


@dataclass
class Fixtures:
    worker: str  # a DCFS case worker with a median caseload
    supervisor: str  # a DCFS supervisor (receiving agency: screens and accepts)
    deputy: str  # a Sheriff case worker (refers)
    mdt_member: str  # a STAR team member (not a coordinator)
    auditor: str
    case_id: int
    case_number: str
    youth_id: int
    youth_events: int
    meeting_id: int
    meeting_items: int
    persons: list[dict[str, Any]]  # existing youth (for the matches query)
    new_people: list[dict[str, Any]]  # invented new youth (for referral creates)
    shape: dict[str, Any] = field(default_factory=dict)


def pick_fixtures(rng: random.Random) -> Fixtures:
    from django.db.models import Count, Q

    from accounts.models import User
    from audit.models import AuditEvent
    from cases.models import Case, CaseTeamMember, Youth
    from cases.selectors.visibility import case_list_visible_to, referral_list_visible_to
    from mdt.models import AgendaItem, Meeting, TeamMembership
    from notifications.models import Notification
    from notifications.selectors import deadline_list_visible_to

    workers = list(
        User.objects.filter(username__startswith="scale_dcfs_case_worker_")
        .annotate(n=Count("case_memberships", filter=Q(case_memberships__removed_at__isnull=True)))
        .order_by("n", "id")
        .values_list("username", "n")
    )
    worker_name, _ = workers[len(workers) // 2]
    worker = User.objects.get(username=worker_name)
    cases = case_list_visible_to(user=worker).filter(status="open")
    case = (
        cases.annotate(nr=Count("referrals")).order_by("-nr", "id").first() or case_list_visible_to(user=worker).first()
    )
    assert case is not None, "the bench case worker sees no case: seed_scale first"
    # The youth whose audit trail is read: one at the 90th percentile of events per youth.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT youth_id, n FROM (SELECT youth_id, count(*) n FROM audit_auditevent WHERE youth_id IS NOT NULL "
            "GROUP BY youth_id) t ORDER BY n DESC LIMIT 1 OFFSET (SELECT count(DISTINCT youth_id) / 10 FROM audit_auditevent)"
        )
        youth_id, youth_events = cur.fetchone()
    meeting = (
        Meeting.objects.filter(team__code="STAR", status="published")
        .annotate(n=Count("items"))
        .order_by("-n", "id")
        .first()
    )
    assert meeting is not None, "no published STAR meeting: seed_scale first"
    member = (
        TeamMembership.objects.filter(team_id=meeting.team_id, is_coordinator=False, user__role="mdt_member")
        .select_related("user")
        .order_by("id")
        .first()
    )
    sample = list(Youth.objects.filter(merged_into__isnull=True).order_by("?")[:300])
    persons = [
        {
            "first_name": y.first_name,
            "last_name": y.last_name,
            "date_of_birth": y.date_of_birth.isoformat() if y.date_of_birth else "",
        }
        for y in sample
    ]
    from faker import Faker

    fake = Faker(["en_US", "es_MX"])
    fake.seed_instance(rng.randrange(1 << 30))
    today = timezone.localdate()
    new_people = [
        {
            "first_name": fake.first_name_female(),
            "last_name": fake.last_name(),
            "date_of_birth": (today - dt.timedelta(days=rng.randint(11 * 365, 17 * 365))).isoformat(),
            "aliases": rng.sample(
                ["Candy", "Princess", "Diamond", "Baby", "Coco", "Jazzy", "Lady", "Star"], rng.randint(0, 2)
            ),
        }
        for _ in range(2000)
    ]
    shape = {
        "worker_cases_visible": case_list_visible_to(user=worker).count(),
        "worker_referrals_visible": referral_list_visible_to(user=worker).count(),
        "worker_open_deadlines_visible": deadline_list_visible_to(user=worker).filter(status="open").count(),
        "worker_inbox": Notification.objects.filter(recipient=worker).count(),
        "supervisor_cases_visible": case_list_visible_to(
            user=User.objects.get(username="scale_dcfs_supervisor_000")
        ).count(),
        "case_team": CaseTeamMember.objects.filter(case=case).count(),
        "agenda_items": AgendaItem.objects.filter(meeting=meeting).count(),
        "audit_events": AuditEvent.objects.count(),
        "cases": Case.objects.count(),
    }
    return Fixtures(
        worker=worker_name,
        supervisor="scale_dcfs_supervisor_000",
        deputy="scale_sheriff_case_worker_000",
        mdt_member=member.user.username,
        auditor="scale_dcfs_auditor_000",
        case_id=case.pk,
        case_number=case.number,
        youth_id=youth_id,
        youth_events=youth_events,
        meeting_id=meeting.pk,
        meeting_items=shape["agenda_items"],
        persons=persons,
        new_people=new_people,
        shape=shape,
    )


def accept_pool(*, n: int, deputy: str, supervisor: str, people: list[dict[str, Any]]) -> list[int]:
    """`n` screened referrals (received by DCFS, each for a new youth) ready to be accepted,
    created through the cases services like any other referral."""
    from accounts.models import Agency, User
    from cases.services import referrals as referral_services

    deputy_u = User.objects.get(username=deputy)
    sup = User.objects.get(username=supervisor)
    dcfs = Agency.objects.get(code="DCFS")
    now = timezone.now()
    ids = []
    for i in range(n):
        p = people[i % len(people)]
        with transaction.atomic():
            referral = referral_services.referral_create(
                actor=deputy_u,
                youth_data={
                    "first_name": p["first_name"],
                    "last_name": p["last_name"],
                    "date_of_birth": dt.date.fromisoformat(p["date_of_birth"]),
                },
                receiving_agency=dcfs,
                received_at=now,
                source="hotline",
                hotline_reported_at=now - dt.timedelta(hours=1),
                indicators=["runaway_or_homeless", "controlling_older_partner"],
                narrative="Synthetic benchmark referral.",
            )
            referral_services.referral_screen(
                referral=referral, actor=sup, level="clear_concern", instrument="CSE-IT", instrument_version="2.0"
            )
        ids.append(referral.pk)
    return ids


def totp_code(drift: int = 0) -> str:
    """The bench auditor's current TOTP code (`drift=1`: the next step's, which the device's
    tolerance accepts when this step's code was already used by an earlier run)."""
    from django_otp.oath import totp

    from scale.seed import auditor_totp_key

    return f"{totp(bytes.fromhex(auditor_totp_key()), drift=drift):06d}"


# --- raw SQL of a page, and EXPLAIN --------------------------------------------------------------------


def psycopg_params() -> dict[str, Any]:
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("server_side_binding", None)
    return params


def capture(token: str, method: str, path: str, body: Any = None) -> tuple[int, list[str]]:
    """Run one request in-process (django.test.Client, the same middleware and views) inside a
    transaction that is rolled back; return its status and every SQL statement it ran."""
    if token.startswith("Cookie: "):
        client = Client(HTTP_COOKIE=token.removeprefix("Cookie: "))
    else:
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(
                path, data=json.dumps(body) if body is not None else None, content_type="application/json"
            )
        transaction.set_rollback(True)
    return response.status_code, [q["sql"] for q in queries.captured_queries]


#: A `.iterator()` read is a server-side cursor: Django logs its DECLARE, not the FETCHes that
#: run the query, so replaying the DECLARE alone would time nothing.
_DECLARE = re.compile(r'\s*DECLARE\s+"[^"]+"\s+NO SCROLL CURSOR\s+(?:WITH(?:OUT)? HOLD\s+)?FOR\s+(.*)\Z', re.S | re.I)


def runnable(sql: str) -> str:
    """The statement as replay and EXPLAIN run it: a cursor's DECLARE becomes its query, whose
    rows the request fetched in full."""
    declared = _DECLARE.match(sql)
    return declared[1] if declared else sql


def replay(statements: list[str], *, repeats: int = 15) -> dict[str, Any]:
    """Time exactly these statements over a direct psycopg connection (no Django), in a
    transaction rolled back each time; the median of `repeats` runs. A server-side cursor's
    query is run and fetched whole (see `runnable`)."""
    statements = [runnable(sql) for sql in statements]
    times = []
    errors = 0
    with psycopg.connect(**psycopg_params()) as conn:
        for _ in range(repeats + 2):
            started = time.perf_counter()
            with conn.cursor() as cur:
                for sql in statements:
                    try:
                        cur.execute(sql.encode())
                        if cur.description is not None:
                            cur.fetchall()
                    except psycopg.Error:
                        errors += 1
                        break
            conn.rollback()
            times.append((time.perf_counter() - started) * 1000)
    times = times[2:]  # the first two warm the connection and the plan cache
    return {"ms": statistics.median(times), "queries": len(statements), "errors": errors}


def explain(statements: list[str]) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) every SELECT of a page, flagging sequential scans of big
    tables. Run inside a rolled-back transaction (ANALYZE executes)."""
    out = []
    with psycopg.connect(**psycopg_params()) as conn, conn.cursor() as cur:
        for sql in map(runnable, statements):
            head = sql.lstrip()[:6].upper()
            if head != "SELECT":
                continue
            try:
                cur.execute(("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + sql).encode())
                plan = "\n".join(r[0] for r in cur.fetchall())
            except psycopg.Error as exc:
                conn.rollback()
                out.append({"sql": sql, "plan": f"error: {type(exc).__name__}", "seq_scans": [], "ms": 0.0})
                continue
            seq = sorted({t for t in BIG_TABLES if f"Seq Scan on {t}" in plan})
            ms = 0.0
            for line in plan.splitlines():
                if line.strip().startswith("Execution Time:"):
                    ms = float(line.split(":")[1].split()[0])
            out.append({"sql": sql, "plan": plan, "seq_scans": seq, "ms": ms})
        conn.rollback()
    return out


# --- the deadline sweep ---------------------------------------------------------------------------------


#: Tables the bench's own scratch work leaves dead rows in (the sweep's 90,000 cloned deadlines
#: rolled back, the delivery runs' notifications deleted, the accept pool's referrals).
SCRATCH_TABLES = (
    "notifications_deadline",
    "notifications_notification",
    "notifications_notificationdelivery",
    "cases_referral",
    "cases_case",
)


def vacuum(tables: tuple[str, ...] = SCRATCH_TABLES) -> float:
    """VACUUM (ANALYZE) the tables the bench itself churns; returns the seconds it took. Without
    it, each sweep timing leaves ~100,000 dead deadline rows behind, and the next run's deadline
    and agenda pages walk them (3.1 M dead rows after a day of runs: the deadline list's query
    went from 18 to 90 ms). Production has autovacuum for ordinary churn; this is the bench's."""
    started = time.perf_counter()
    with psycopg.connect(**psycopg_params(), autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")  # noqa: S608 - constant names
    return time.perf_counter() - started


def _scratch_open_deadlines(total_open: int, due: int, now: dt.datetime) -> None:
    """Inside the caller's transaction: make exactly `due` open deadlines due now and the table
    hold `total_open` open deadlines (extra ones, never due, cloned from existing ones)."""
    from notifications.models import Deadline
    from scale.bulk import copy_rows, next_id

    with connection.cursor() as cur:
        # Nothing else due: every reminder that has come moves a day ahead …
        cur.execute(
            "UPDATE notifications_deadline SET next_reminder_at = %s WHERE next_reminder_at <= %s",
            [now + dt.timedelta(days=1), now],
        )
        # … and `due` open deadlines (with an upcoming stage still to send) come due.
        cur.execute(
            "UPDATE notifications_deadline SET next_reminder_at = %s - (random() * interval '2 days'), next_stage = 'due' "
            "WHERE id IN (SELECT id FROM notifications_deadline WHERE status = 'open' AND next_reminder_at IS NOT NULL "
            "ORDER BY id LIMIT %s)",
            [now - dt.timedelta(seconds=1), due],
        )
        cur.execute(
            "UPDATE notifications_deadline SET due_at = next_reminder_at WHERE id IN (SELECT id FROM notifications_deadline WHERE status = 'open' AND next_reminder_at <= %s)",
            [now],
        )
        cur.execute("SELECT count(*) FROM notifications_deadline WHERE status = 'open'")
        have = cur.fetchone()[0]
    extra = total_open - have
    if extra > 0:
        cols = [f.column for f in Deadline._meta.concrete_fields if f.column != "id"]
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {', '.join(cols)} FROM notifications_deadline WHERE status = 'open' AND next_reminder_at > %s ORDER BY id",  # noqa: S608
                [now],
            )
            templates = cur.fetchall()
        start = next_id(Deadline)
        obj_idx = cols.index("object_id")

        def rows():  # type: ignore[no-untyped-def]
            for i in range(extra):
                row = list(templates[i % len(templates)])
                row[obj_idx] = 10**12 + i  # a distinct (never-existing) target: the unique constraint holds
                yield [start + i, *row]

        copy_rows(Deadline, ["id", *cols], rows())
    with connection.cursor() as cur:
        cur.execute("ANALYZE notifications_deadline")


def sweep_timing(*, total_open: int, due: int, repeats: int = 5) -> dict[str, Any]:
    """Time `deadlines_sweep` (the beat task's code) with `total_open` open deadlines of which
    `due` have a reminder that has come. Scratch data in a transaction rolled back; the sends it
    would enqueue on commit are timed separately (`enqueue_timing`)."""
    from notifications.services.sweep import deadlines_sweep

    results = []
    for _ in range(repeats):
        now = timezone.now()
        with transaction.atomic():
            _scratch_open_deadlines(total_open, due, now)
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE next_reminder_at <= %s) FROM notifications_deadline",
                    [now],
                )
                open_n, due_n = cur.fetchone()
                cur.execute(
                    "EXPLAIN SELECT id FROM notifications_deadline WHERE next_reminder_at <= %s ORDER BY next_reminder_at, id LIMIT 500",
                    [now],
                )
                plan = "\n".join(r[0] for r in cur.fetchall())
            counted = [0]

            def count(execute, sql, params, many, context, counted=counted):  # type: ignore[no-untyped-def]
                counted[0] += 1
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):  # (CaptureQueriesContext keeps only 9,000)
                started = time.perf_counter()
                result = deadlines_sweep(now=now)
                elapsed = (time.perf_counter() - started) * 1000
            results.append(
                {
                    "ms": elapsed,
                    "open": open_n,
                    "due": due_n,
                    "deadlines": result.deadlines,
                    "notifications": result.notifications,
                    "queries": counted[0],
                    "claim_plan": plan,
                }
            )
            transaction.set_rollback(True)
    best = sorted(results, key=lambda r: r["ms"])[len(results) // 2]
    best["all_ms"] = [round(r["ms"], 1) for r in results]
    return best


def enqueue_timing(n: int) -> dict[str, Any]:
    """What the sweep's on-commit step costs: `n` sends handed to Redis as the sweep hands them
    (`_enqueue_sends`: SEND_BATCH ids per message), then the queue is purged."""
    from config.celery import app
    from notifications.services.delivery import _enqueue_sends

    app.control.purge()
    started = time.perf_counter()
    _enqueue_sends(list(range(10**12, 10**12 + n)))
    elapsed = (time.perf_counter() - started) * 1000
    app.control.purge()
    return {"n": n, "ms": elapsed}


# --- notification delivery through Celery + Redis -------------------------------------------------------


def _pending_notifications(n: int, recipients: list[int]) -> list[int]:
    from notifications.models import Notification

    now = timezone.now()
    rows = [
        Notification(
            recipient_id=recipients[i % len(recipients)],
            rule="written_report_36h",
            stage="due",
            reason="responsible",
            subject="[Safe Harbor] Due: written report due — Referral R-0",
            reference="Referral R-0",
            due_at=now,
            link="http://127.0.0.1/api/v1/referrals/0/",
            delivery_status="pending",
            redeliver_after=now + dt.timedelta(hours=1),
        )
        for i in range(n)
    ]
    return [x.pk for x in Notification.objects.bulk_create(rows, batch_size=1000)]


def start_workers(count: int, env: dict[str, str], log_dir: Path, extra: list[str]) -> list[subprocess.Popen]:
    # Celery's Django fixup closes every database connection before and after each task; with
    # psycopg's pool that "close" returns the connection to the pool instead of reconnecting
    # (measured: reconnecting per task halves throughput). BENCH_WORKER_DB_POOL=0 to compare.
    env = {**env, "BENCH_DB_POOL": os.environ.get("BENCH_WORKER_DB_POOL", "1")}
    procs = []
    for i in range(count):
        log = open(log_dir / f"celery-{count}-{i}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(  # noqa: S603 - our own venv's celery
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "-n",
                    f"bench{i}@%h",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "WARNING",
                    *extra,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return procs


def stop(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


def _wait_sent(ids: list[int], limit_s: float) -> tuple[float, int]:
    from notifications.models import Notification

    started = time.perf_counter()
    deadline = time.monotonic() + limit_s
    left = len(ids)
    while time.monotonic() < deadline:
        left = Notification.objects.filter(pk__in=ids, delivery_status="pending").count()
        if left == 0:
            break
        time.sleep(0.05)
    return time.perf_counter() - started, left


def delivery_throughput(
    *,
    workers: int,
    n: int,
    env: dict[str, str],
    log_dir: Path,
    extra: list[str] | None = None,
    limit_s: float = 90,
) -> dict[str, Any]:
    """Start `workers` real Celery worker processes on Redis, enqueue `n` pending notifications
    the way the sweep does (`_enqueue_sends`: SEND_BATCH ids per message), and time until every
    one is sent."""
    from accounts.models import User
    from config.celery import app
    from notifications.models import Notification, NotificationDelivery
    from notifications.services.delivery import _enqueue_sends

    recipients = list(User.objects.filter(username__startswith="scale_dcfs_case_worker_").values_list("id", flat=True))
    app.control.purge()
    enqueue = _enqueue_sends
    procs = start_workers(workers, env, log_dir, extra or [])
    created: list[int] = []
    try:
        warm = _pending_notifications(20 * workers, recipients)
        created += warm
        enqueue(warm)
        _, left = _wait_sent(warm, 60)
        if left:
            return {"workers": workers, "error": f"workers did not start ({left} warm-up sends left)"}
        ids = _pending_notifications(n, recipients)
        created += ids
        started = time.perf_counter()
        enqueue(ids)
        enqueued = time.perf_counter() - started
        waited, left = _wait_sent(ids, limit_s)
        total = time.perf_counter() - started
        sent = n - left
        return {
            "workers": workers,
            "n": n,
            "sent": sent,
            "seconds": total,
            "enqueue_s": enqueued,
            "per_s": sent / total if total else 0.0,
        }
    finally:
        stop(procs)
        app.control.purge()
        NotificationDelivery.objects.filter(notification_id__in=created).delete()
        Notification.objects.filter(pk__in=created).delete()


# --- the audit log's share of a write request ----------------------------------------------------------


class _AuditTimer:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        return timed


def audit_share(*, token: str, requests: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """Run write requests in-process with audit.services.record.audit_record / audit_record_many timed
    wherever they were imported; share = time inside them / request time."""
    from django.urls import get_resolver

    from audit.services import record as audit_services

    get_resolver().url_patterns  # noqa: B018 - import every view module before patching (not during a request)
    originals = {"audit_record": audit_services.audit_record, "audit_record_many": audit_services.audit_record_many}
    timer = _AuditTimer()
    patched: list[tuple[Any, str, Any]] = []
    for module in list(sys.modules.values()):
        for name, fn in originals.items():
            if module is not None and getattr(module, name, None) is fn:
                patched.append((module, name, fn))
                setattr(module, name, timer.wrap(fn))
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    total = 0.0
    statuses: dict[int, int] = {}
    try:
        for method, path, body in requests:
            started = time.perf_counter()
            response = client.generic(
                method, path, data=json.dumps(body) if body is not None else "", content_type="application/json"
            )
            total += time.perf_counter() - started
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    finally:
        for module, name, fn in patched:
            setattr(module, name, fn)
    return {
        "requests": len(requests),
        "request_ms": total * 1000 / len(requests),
        "audit_ms": timer.seconds * 1000 / len(requests),
        "audit_calls": timer.calls / len(requests),
        "share": timer.seconds / total if total else 0.0,
        "statuses": statuses,
    }


def pdf_timing(*, meeting_id: int, user: str, items: int = 20, repeats: int = 7) -> dict[str, Any]:
    """The printed agenda of `items` cases (issue 14: under 0.5 s at county scale): the STAR
    meeting is topped up to `items` open STAR cases inside a transaction that is rolled back,
    then its agenda view is read and the PDF rendered `repeats` times after a first print that
    lays the pages out (and warms fonts and templates): reported apart as `first_ms`, the
    reprints (the same pages, a new reader's footer stamped) as the p50."""
    from django.db import transaction

    from accounts.models import User
    from cases.models import Case
    from mdt import exports, selectors
    from mdt.models import AgendaItem, Meeting

    reader = User.objects.get(username=user)
    timings: list[float] = []
    with transaction.atomic():
        meeting = Meeting.objects.select_related("team").get(pk=meeting_id)
        have = AgendaItem.objects.filter(meeting=meeting).count()
        if have < items:
            taken = AgendaItem.objects.filter(meeting=meeting).values("case_id")
            extra = Case.objects.filter(court=meeting.team.court, status="open").exclude(id__in=taken)
            AgendaItem.objects.bulk_create(
                AgendaItem(
                    meeting=meeting,
                    case=case,
                    position=have + n,
                    reason=AgendaItem.Reason.PROGRESS_REVIEW,
                    added_by=reader,
                )
                for n, case in enumerate(extra.order_by("id")[: items - have], start=1)
            )
        for _ in range(repeats + 1):
            started = time.perf_counter()
            view = selectors.agenda_view(user=reader, meeting=meeting)
            pdf = exports.agenda_pdf(meeting=meeting, view=view, printed_by=reader)
            timings.append((time.perf_counter() - started) * 1000)
        transaction.set_rollback(True)
    first, timings = timings[0], timings[1:]
    return {
        "items": len(view),
        "first_ms": first,
        "bytes": len(pdf),
        "p50_ms": statistics.median(timings),
        "max_ms": max(timings),
        "repeats": repeats,
    }


def alerts_day_timing() -> dict[str, Any]:
    """The access-oversight scan (reports.oversight) over the last 24 hours of audit events in
    one window — the issue's bound is a day of county events in under 60 s — inside a
    transaction that is rolled back, so the bench database keeps no alerts or notifications."""
    from audit.models import AuditEvent
    from reports.models import OversightSettings
    from reports.oversight import access_alerts_scan

    now = timezone.now()
    cfg = OversightSettings(window_minutes=24 * 60)
    events = AuditEvent.objects.filter(occurred_at__gte=now - dt.timedelta(days=1)).count()
    with transaction.atomic():
        started = time.perf_counter()
        alerts = access_alerts_scan(now=now, cfg=cfg)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"events": events, "seconds": seconds, "alerts": len(alerts)}
