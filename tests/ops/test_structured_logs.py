"""Structured logs (SPEC §7): every line of a request carries its request id, user id and
agency; a task's lines carry the task id and the id of the request that enqueued it; JSON in
production, readable lines in `make run`; emails of `make run` in var/mail/ as readable text."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from celery import shared_task

from ops.logconfig import formatter
from tests.conftest import client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


class Lines(logging.Handler):
    """Every record formatted as production formats it (JSON), parsed back."""

    def __init__(self) -> None:
        super().__init__()
        entry = formatter("json")
        self.setFormatter(entry.pop("()")(**entry))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines():  # type: ignore[no-untyped-def]
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.lines
    root.removeHandler(handler)


@shared_task(name="tests.ops.log_probe_task")
def log_probe_task() -> None:
    logging.getLogger("tests.ops.probe").warning("probe ran")


def test_every_line_of_a_request_carries_request_id_user_and_agency(lines, monkeypatch):
    # given: a case worker, and a view that logs while it works (after DRF authenticated)
    agency = AgencyFactory(code="DCFS")
    user = UserFactory(agency=agency, role="case_worker")
    from accounts import apis

    original = apis.MeApi.get

    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        logging.getLogger("accounts.probe").warning("inside the view")
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(apis.MeApi, "get", get)

    # when
    response = client_for(user).get("/api/v1/me/", HTTP_X_REQUEST_ID="req-abc-123")

    # then
    assert response.status_code == 200
    request_lines = [line for line in lines if line.get("request_id") == "req-abc-123"]
    summary = [line for line in request_lines if line["event"] == "request"]
    assert summary, lines
    assert summary[0]["user_id"] == user.pk
    assert summary[0]["agency_id"] == agency.pk
    assert summary[0]["route"] == "api/v1/me/"
    assert summary[0]["status"] == 200
    assert summary[0]["db_queries"] >= 1
    assert {"timestamp", "level", "logger"} <= set(summary[0])
    inside = [line for line in request_lines if line["event"] == "inside the view"]
    assert inside and inside[0]["user_id"] == user.pk and inside[0]["agency_id"] == agency.pk


def test_the_request_line_names_the_route_never_the_path_or_query(lines):
    user = UserFactory(agency=AgencyFactory(code="DCFS"), role="case_worker")
    client_for(user).get("/api/v1/youth/matches/?first_name=Marisol&last_name=Quintero")
    text = json.dumps(lines)
    assert "Marisol" not in text and "Quintero" not in text
    assert any(line.get("route") == "api/v1/youth/matches/" for line in lines)


def test_an_anonymous_request_logs_no_user(lines):
    from django.test import Client

    Client().get("/health/")
    (line,) = [line for line in lines if line["event"] == "request"]
    assert line["route"] == "health/" and "user_id" not in line and line["request_id"]


def test_a_task_line_carries_its_task_id_and_the_enqueuing_request_id(lines):
    from config.celery import app
    from core.middleware import request_id_var
    from ops.signals import REQUEST_ID_HEADER, request_id_to_task

    # given: the id a request puts on the message it publishes
    headers: dict = {}
    token = request_id_var.set("req-enqueuer-9")
    try:
        request_id_to_task(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {REQUEST_ID_HEADER: "req-enqueuer-9"}

    # when: the worker runs the task with those headers (outside any request)
    app.tasks["tests.ops.log_probe_task"].apply(task_id="task-42", headers=headers)

    # then
    (line,) = [line for line in lines if line["event"] == "probe ran"]
    assert line["task_id"] == "task-42"
    assert line["task"] == "tests.ops.log_probe_task"
    assert line["request_id"] == "req-enqueuer-9"
    # and the context does not leak into the next line outside the task
    logging.getLogger("tests.ops.probe").warning("after")
    assert "task_id" not in lines[-1]


def test_structlog_lines_are_json_in_production_and_readable_locally(capsys):
    record = logging.LogRecord("harbor.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    entry = formatter("console")
    console = entry.pop("()")(**entry)
    text = console.format(record)
    assert "hello there" in text and not text.startswith("{")
    entry = formatter("json")
    assert json.loads(entry.pop("()")(**entry).format(record))["event"] == "hello there"
    structlog.get_logger("harbor.x").info("structured", count=3)


def test_local_emails_land_in_var_mail_as_readable_text(tmp_path, capsys):
    from django.core.mail import EmailMultiAlternatives, get_connection

    connection = get_connection("ops.mail.ReadableFileBackend", file_path=str(tmp_path / "mail"))
    message = EmailMultiAlternatives(
        "Reminder: 24-hour report due", "Open Safe Harbor to see it.\nNo more here.", "a@x.invalid", ["b@x.invalid"]
    )
    message.attach_alternative("<p>Open Safe Harbor</p>", "text/html")
    assert connection.send_messages([message]) == 1
    (written,) = list((tmp_path / "mail").iterdir())
    text = written.read_text()
    assert "Subject: Reminder: 24-hour report due" in text
    assert "Open Safe Harbor to see it.\nNo more here." in text
    assert "Content-Transfer-Encoding" not in text and "=?utf-8?" not in text
    printed = capsys.readouterr().out
    assert "Subject: Reminder: 24-hour report due" in printed and str(written) in printed


def test_make_run_settings_use_the_readable_backend_and_lines():
    import subprocess
    import sys

    from django.conf import settings

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.EMAIL_BACKEND, s.HARBOR_LOG_FORMAT)",
        ],
        cwd=settings.BASE_DIR,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "config.settings.local"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["ops.mail.ReadableFileBackend", "console"]


def test_a_json_line_masks_tracebacks_and_drops_the_request_extra():
    import sys

    from django.test import RequestFactory

    from core.logging_filters import SecretPathFilter

    token = "feedtoken-abcdefghijklmnop"
    try:
        raise RuntimeError(f"while reading /api/v1/mdt/feeds/{token}.ics")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x/",), exc_info
    )
    record.request = RequestFactory().get(f"/api/v1/mdt/feeds/{token}.ics")
    record.status_code = 500
    SecretPathFilter().filter(record)
    entry = formatter("json")
    line = entry.pop("()")(**entry).format(record)
    assert token not in line
    parsed = json.loads(line)
    assert "request" not in parsed and parsed["status_code"] == 500
    assert "/api/v1/mdt/feeds/***.ics" in parsed["exception"]
