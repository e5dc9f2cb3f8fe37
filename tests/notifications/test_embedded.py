"""The embedded default sends reminders too: SQLite, kombu's filesystem broker, the file email
backend, a solo-pool worker as `make run` starts it — no Redis, no PostgreSQL. The sweep is
sent through the broker exactly as beat sends it."""

from __future__ import annotations

import os
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.notifications.harness import HEADER, ROOT, wait_until

pytestmark = pytest.mark.slow

SEED = """
import datetime as dt
from django.utils import timezone
from accounts.models import Agency, User
from cases.models import Referral, Youth
from notifications.services.deadlines import deadline_open
dcfs = Agency.objects.create(code="DCFS", name="DCFS")
worker = User.objects.create_user("worker", "worker@example.invalid", "x" * 16, agency=dcfs, role="case_worker")
youth = Youth.objects.create(first_name="Zephyrinelle", last_name="Oakenshieldova", holding_agency=dcfs, created_by=worker)
reported = timezone.now() - dt.timedelta(hours=25)
referral = Referral.objects.create(youth=youth, referring_agency=dcfs, receiving_agency=dcfs, created_by=worker,
                                   received_at=reported, source="hotline", hotline_reported_at=reported)
deadline_open(rule_code="written_report_36h", target=referral, starts_at=reported)
from notifications.tasks import sweep_deadlines_task
sweep_deadlines_task.delay()
"""


def test_the_embedded_default_sends_a_reminder_without_redis(tmp_path: Path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}},
        "DJANGO_SETTINGS_MODULE": "tests.notifications.embedded_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'harbor.sqlite3'}",
        "HARBOR_TEST_BROKER_DIR": str(tmp_path / "broker"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "HARBOR_FIELD_KEYS": "q8Zl3l0kF2u1Jm7c3o9cB6mX4b2v8n0pR5t7y9w1e3Q=",
        "HARBOR_BLIND_INDEX_KEY": "embedded-test",
    }
    for sub in ("broker/out", "broker/processed", "mail"):
        (tmp_path / sub).mkdir(parents=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)  # noqa: S603
    subprocess.run([*manage, "shell", "-c", SEED], cwd=ROOT, env=env, check=True, timeout=60)  # noqa: S603

    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def sent() -> list[bytes]:
            return [m for p in (tmp_path / "mail").iterdir() for m in HEADER.findall(p.read_bytes())]

        wait_until(lambda: len(sent()) == 1 or worker.poll() is not None, timeout=45, what="the reminder email")
        assert len(sent()) == 1, log.read_text()[-3000:]
        (email_file,) = (tmp_path / "mail").iterdir()
        raw = email_file.read_bytes().split(b"\n" + b"-" * 79)[0]
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert str(message["Subject"]).strip().startswith("[Safe Harbor] Upcoming: written report due — Referral R-")
        text = message.get_body(("plain",)).get_content()
        assert "Due: " in text and "(Pacific time)" in text
        assert "Zephyrinelle" not in text and "Oakenshieldova" not in text
    finally:
        worker.kill()
        worker.wait(timeout=10)
