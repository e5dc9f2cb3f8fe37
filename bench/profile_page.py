"""Where one page's time goes, in-process, on the bench database: each SQL statement with its
time, the total time in SQL, and a cProfile of the request (top functions by cumulative time).

    DJANGO_SETTINGS_MODULE=config.settings.bench .venv/bin/python bench/profile_page.py \\
        --user scale_dcfs_case_worker_047 /api/v1/deadlines/?status=open

Runs the request `--repeat` times (the first warms caches) inside a transaction that is rolled
back, so the audit events it writes are not kept. Only the bench database is touched."""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--user", required=True, help="username to log in as (a token is created in-process)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, …)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    from accounts.models import User

    user = User.objects.get(username=args.user)
    _, token = AuthToken.objects.create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    if args.path.startswith("/app/"):  # a web page: a signed-in session, as the browser has
        client = Client()
        client.force_login(user)
    try:
        times = []
        profiler = cProfile.Profile()
        for i in range(args.repeat):
            with transaction.atomic():
                started = time.perf_counter()
                if i == args.repeat - 1:
                    with CaptureQueriesContext(connection) as queries:
                        response = client.get(args.path)
                elif i >= args.repeat // 2:  # the second half is profiled, the first half timed
                    profiler.enable()
                    response = client.get(args.path)
                    profiler.disable()
                else:
                    response = client.get(args.path)
                if 1 <= i < args.repeat // 2:
                    times.append((time.perf_counter() - started) * 1000)
                transaction.set_rollback(True)
        print(f"status {response.status_code}, {len(response.content)} bytes")
        print(f"request ms: median {statistics.median(times):.2f} (runs {len(times)}, not profiled)")
        sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
        print(f"SQL: {len(queries.captured_queries)} statements, {sql_ms:.2f} ms in the last run")
        for q in queries.captured_queries:
            print(f"  {float(q['time']) * 1000:7.2f} ms  {q['sql'][:220]}")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    finally:
        AuthToken.objects.filter(token_key=token[:15]).delete()


if __name__ == "__main__":
    main()
