#!/usr/bin/env python
"""The whole suite, as `make test` runs it.

On PostgreSQL the model-based test (tests/security/model/: at least 200 random sequences of 40
steps in CI) runs beside the rest of the suite, as two shards of the examples (each its own
sequences, HARBOR_MODEL_SHARD=i/2), each in a pytest process on a database of its own: it is CPU
bound, and the machine has two cores. Their output is printed when they end, with the total
number of examples run; the run fails if any process fails. With arguments (`make test
PYTEST_ARGS=…`), or without PostgreSQL, it is one plain pytest run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "tests/security/model"
SHARDS = 2
#: What tests/security/model/conftest.py prints at the end of a shard.
SUMMARY = re.compile(
    r"model-based visibility \(shard \d+/\d+\): (\d+) examples ran all (\d+) steps \((\d+) sequences in all.*?, (\d+) steps, (\d+) API requests"
)


def main() -> int:
    pytest = [sys.executable, "-m", "pytest"]
    args = shlex.split(os.environ.get("PYTEST_ARGS", ""))
    database_url = os.environ.get("DATABASE_URL", "")
    if args or not database_url.startswith(("postgres://", "postgresql://")):
        return subprocess.call([*pytest, *args], cwd=ROOT)
    base, sep, query = database_url.partition("?")
    shards = []
    for shard in range(1, SHARDS + 1):
        log = ROOT / "var" / f"test-model-{shard}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "HARBOR_MODEL_SHARD": f"{shard}/{SHARDS}",
            # A database of its own: pytest-django names the test database after this one.
            "DATABASE_URL": f"{base.rstrip('/')}_model{shard}{sep}{query}",
        }
        # The first shard runs the whole directory; the others only the random sequences.
        target = MODEL if shard == 1 else f"{MODEL}/test_model_based.py::test_visibility_holds_across_sequences"
        out = log.open("w")
        shards.append(
            (log, out, subprocess.Popen([*pytest, target], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        )
    try:
        rest = subprocess.call([*pytest, "--ignore", MODEL], cwd=ROOT)
    finally:
        statuses = [process.wait() for _, _, process in shards]
        for _, out, _ in shards:
            out.close()
    totals = [0, 0, 0, 0]  # sequences, of them run to the full length, steps, requests
    for shard, (log, _, _) in enumerate(shards, start=1):
        text = log.read_text()
        print(f"\n==== {MODEL}, shard {shard}/{SHARDS} (run beside the rest; its output) ====", flush=True)
        sys.stdout.write(text)
        for match in SUMMARY.finditer(text):
            totals[0] += int(match[3])
            totals[1] += int(match[1])
            totals[2] += int(match[4])
            totals[3] += int(match[5])
    print(
        f"\nmodel-based visibility, all {SHARDS} shards: {totals[0]} sequences of up to the step limit "
        f"({totals[1]} of them ran it all), {totals[2]} steps, {totals[3]} API requests",
        flush=True,
    )
    return rest or next((status for status in statuses if status), 0)


if __name__ == "__main__":
    sys.exit(main())
