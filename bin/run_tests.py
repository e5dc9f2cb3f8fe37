#!/usr/bin/env python
"""The whole suite, as `make test` runs it.

On PostgreSQL the model-based test (tests/security/model/: at least 200 random sequences of 40
steps in CI) runs beside the rest of the suite, in a second pytest process on a database of its
own: it is a single long CPU-bound test, and the machine has two cores. Its output is printed
when it ends; the run fails if either process fails. With arguments (`make test
PYTEST_ARGS=…`), or without PostgreSQL, it is one plain pytest run.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "tests/security/model"


def main() -> int:
    pytest = [sys.executable, "-m", "pytest"]
    args = shlex.split(os.environ.get("PYTEST_ARGS", ""))
    database_url = os.environ.get("DATABASE_URL", "")
    if args or not database_url.startswith(("postgres://", "postgresql://")):
        return subprocess.call([*pytest, *args], cwd=ROOT)
    log = ROOT / "var" / "test-model.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    # A database of its own: pytest-django names the test database after this one.
    base, sep, query = database_url.partition("?")
    model_env = {**os.environ, "DATABASE_URL": f"{base.rstrip('/')}_model{sep}{query}"}
    with log.open("w") as out:
        model = subprocess.Popen([*pytest, MODEL], cwd=ROOT, env=model_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            rest = subprocess.call([*pytest, "--ignore", MODEL], cwd=ROOT)
        finally:
            model_status = model.wait()
    print(f"\n==== {MODEL} (run beside the rest; its output) ====", flush=True)
    sys.stdout.write(log.read_text())
    sys.stdout.flush()
    return rest or model_status


if __name__ == "__main__":
    sys.exit(main())
