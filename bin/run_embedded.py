#!/usr/bin/env python
"""The embedded default: migrate, load reference and demo data, then run web, worker and beat
together on SQLite and a filesystem broker. Ctrl-C stops all three.

A plain supervisor of three processes: a Procfile runner would add a dependency to do the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = os.environ.get("HARBOR_HOST", "127.0.0.1")
PORT = os.environ.get("HARBOR_PORT", "8000")


def main() -> int:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local")}
    env.setdefault("HARBOR_BASE_URL", f"http://{HOST}:{PORT}")
    for sub in ("var", "var/broker/out", "var/broker/processed", "var/broker/control", "var/mail"):
        (ROOT / sub).mkdir(parents=True, exist_ok=True)
    manage = [PY, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True)

    procs = {
        # config/gunicorn.py: an access log with secrets in paths masked and no query strings.
        "web": [
            PY,
            "-m",
            "gunicorn",
            "-c",
            "python:config.gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ],
        # solo pool: one process, so SQLite sees few writers; the filesystem broker needs no server.
        "worker": [PY, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"],
        "beat": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(ROOT / "var" / "celerybeat-schedule"),
        ],
    }
    running = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True) for name, cmd in procs.items()}
    print(f"\nSafe Harbor is running: sign in at http://{HOST}:{PORT}/app/sign-in/", flush=True)
    print(f"(API docs: http://{HOST}:{PORT}/api/docs/, admin: /admin/, health: /health/)", flush=True)
    print("Web, worker and beat are running; press Ctrl-C to stop them all.\n", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for name, proc in running.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the others.", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for proc in running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for proc in running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
