"""The log scrub plugin (tests/ops/log_scrub.py) fails a test whose log records carry a seeded
identifying value, and passes one that logs ids only. It runs a probe suite in a subprocess
with the plugin on (on SQLite: its own database, whatever this session uses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.log_scrub import Scrubber

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_plugin_fails_each_leak_and_passes_ids_only(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}"}
    env.pop("CI", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.ops.log_scrub",
            "tests/ops/scrub_probe.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "5 passed, 4 errors" in out, out
    assert "Youth.first_name ('Zenaida')" in out
    assert "Referral.narrative ('Seen near the pier at night.')" in out
    assert "Youth.date_of_birth ('2010-03-14')" in out
    assert "a API token" in out
    assert "test_logs_ids_only" not in out.split("short test summary")[-1]


def test_the_scrubber_finds_values_in_messages_extras_and_tracebacks():
    scrubber = Scrubber()
    scrubber.seed("Marisol", "Youth.first_name")
    scrubber.seed(["Mari", "M"], "Youth.aliases")  # too short to tell from ordinary text: skipped
    scrubber.seed(12345, "YouthExternalId.value")
    import logging

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "met %s", ("Marisol",), None)
    scrubber.capture(record)
    assert scrubber.check("t") == ["t: logger 'x' wrote a Youth.first_name ('Marisol')"]
    assert "M" not in scrubber.values and "12345" not in scrubber.values and "Mari" in scrubber.values


def test_a_query_string_the_filter_masks_is_not_a_finding():
    import logging

    scrubber = Scrubber()
    scrubber.seed("Marisol", "Youth.first_name")
    scrubber.capture(
        logging.LogRecord("django.request", 30, __file__, 1, "Not Found: /api/v1/youth/?q=Marisol", (), None)
    )
    assert scrubber.check("t") == []
