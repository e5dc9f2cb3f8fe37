"""The soak's CI variant (docs/operations.md "Soak"): `bench/soak.py` for 75 seconds on the real
stack — gunicorn, two Celery workers, beat, PostgreSQL (a database of its own) and a private
redis-server — while a worker is SIGKILLed, Redis is restarted and the database connections are
dropped. One run, read by each test below.

It needs PostgreSQL (the soak's database is created on the server DATABASE_URL names) and the
`redis-server` program (the soak starts its own on a free port, never the shared one): without
them it skips, and under CI (or HARBOR_REQUIRE_SERVICES=1) it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _require

ROOT = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("HARBOR_SOAK_TEST_SECONDS", "75"))

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    _require("redis-server", shutil.which("redis-server") is not None, "install redis-server (the soak runs its own)")
    _require(
        "PostgreSQL",
        os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        "set DATABASE_URL=postgres://… (the soak creates its own database on that server)",
    )
    out = tmp_path_factory.mktemp("soak") / "figure.json"
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, "bench/soak.py", "--seconds", str(SECONDS), "--json", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=SECONDS + 600)
    except subprocess.TimeoutExpired:
        proc.terminate()  # SIGTERM: the soak stops its processes on the way out
        stdout, stderr = proc.communicate(timeout=120)
        pytest.fail(f"the soak did not finish in {SECONDS + 600} s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    took = time.monotonic() - started
    sys.stdout.write(stdout[-4000:])
    assert out.exists(), f"the soak printed no figure (exit {proc.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}"
    figure = json.loads(out.read_text())
    figure["_exit"], figure["_took_s"], figure["_output"] = proc.returncode, took, stdout[-3000:]
    return figure


def test_every_due_reminder_sent_exactly_once(soak: dict[str, Any]) -> None:
    r = soak["reminders"]
    assert r["stages_expected"] > 0, "no reminder stage came due during the soak"
    assert r["notifications"] > 0
    assert r["lost"] == 0, r
    assert r["doubled"] == r["emails_doubled"] == r["duplicate_rows"] == 0, r
    assert r["emailed_not_marked_sent"] == 0, r
    assert r["sent"] + r["inbox_only"] == r["notifications"], r


def test_every_fault_injected_and_survived(soak: dict[str, Any]) -> None:
    assert [w["name"] for w in soak["faults"]] == ["worker_kill", "redis_restart", "db_drop"]
    assert soak["faults_survived"] == 3, soak["drain"]
    assert soak["drain"]["died"] == [], soak["drain"]
    assert soak["drain"]["sweeps_after_load"] >= 2
    assert soak["drain"]["pending"] == soak["drain"]["queued"] == 0


def test_the_audit_log_verifies(soak: dict[str, Any]) -> None:
    assert soak["audit"].startswith("OK"), soak["audit"]


def test_readiness_went_red_during_a_fault_and_green_again(soak: dict[str, Any]) -> None:
    ready = soak["readiness"]
    assert ready["went_red"], ready
    assert ready["green_at_end"], ready


def test_no_5xx_outside_the_fault_windows(soak: dict[str, Any]) -> None:
    req = soak["requests"]
    assert req["requests"] > 0
    assert req["errors_outside_faults"] == 0, req["unexpected_at"]


def test_no_5xx_during_the_redis_restart(soak: dict[str, Any]) -> None:
    assert soak["requests"]["errors_in_redis_restart"] == 0, soak["requests"]["unexpected_by_endpoint"]


def test_only_the_database_drop_may_answer_5xx(soak: dict[str, Any]) -> None:
    """What `make soak` checks: its exit status is 0 only when every check holds."""
    req = soak["requests"]
    unexpected_besides_redis = req["errors_unexpected"] - req["errors_in_redis_restart"]
    assert unexpected_besides_redis == 0, req
    failed = [name for name, ok in soak["checks"].items() if not ok and name != "no unexpected 5xx"]
    assert failed == [], soak["_output"]
