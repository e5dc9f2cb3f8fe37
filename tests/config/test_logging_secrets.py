"""The calendar-feed token (the only credential of a personal feed, SPEC §4) never reaches a log
line: not Django's request log, not runserver's access log, not gunicorn's access or error log."""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import pytest
from django.test import Client

from core.logging_filters import SecretPathFilter, mask_secrets
from core.permissions import Role
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


class Collect(logging.Handler):
    """Keeps the formatted lines a logger writes."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def collect():  # type: ignore[no-untyped-def]
    attached: list[tuple[logging.Logger, Collect]] = []

    def on(name: str) -> Collect:
        handler, logger = Collect(), logging.getLogger(name)
        logger.addHandler(handler)
        attached.append((logger, handler))
        return handler

    yield on
    for logger, handler in attached:
        logger.removeHandler(handler)


@pytest.fixture
def feed_token():  # type: ignore[no-untyped-def]
    from mdt.services.calendar_feeds import calendar_feed_rotate

    member = UserFactory(username="feed_member", agency=AgencyFactory(code="SHERIFF"), role=Role.MDT_MEMBER)
    _, token = calendar_feed_rotate(actor=member)
    return token


def test_feed_token_never_reaches_a_log_line(feed_token, collect, caplog, monkeypatch):  # type: ignore[no-untyped-def]
    from django.core.servers.basehttp import WSGIRequestHandler
    from django.utils.log import ServerFormatter

    from mdt import selectors

    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="django.request")  # an operator who raised the level
    caplog.set_level(logging.INFO, logger="django.server")
    secrets = [feed_token, "wrong-but-secret-looking-token"]
    lines: list[str] = []

    # 1. a feed request through the test client: the working feed, a mistyped token (404, a
    #    django.request warning) and a feed that breaks (500, an error with its traceback)
    client = Client(raise_request_exception=False)
    assert client.get(f"/api/v1/mdt/feeds/{feed_token}.ics").status_code == 200
    assert client.get(f"/api/v1/mdt/feeds/{secrets[1]}.ics?download=1").status_code == 404

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"while reading /api/v1/mdt/feeds/{feed_token}.ics")

    monkeypatch.setattr(selectors, "calendar_feed_meetings", broken)
    assert client.get(f"/api/v1/mdt/feeds/{feed_token}.ics").status_code == 500
    request_lines = [caplog.handler.format(r) for r in caplog.records if r.name == "django.request"]
    assert any("/api/v1/mdt/feeds/***.ics" in line for line in request_lines), request_lines
    assert any("Traceback" in line for line in request_lines)  # the 500's traceback was written
    lines += request_lines + [r.getMessage() for r in caplog.records]

    # 2. runserver's access line, through Django's own log_message
    server = collect("django.server")
    runserver = SimpleNamespace(request=None, log_date_time_string=lambda: "01/Dec/2026 09:00:00")
    for status in ("200", "404", "500"):
        request_line = f"GET /api/v1/mdt/feeds/{feed_token}.ics HTTP/1.1"
        WSGIRequestHandler.log_message(runserver, '"%s" %s %s', request_line, status, "512")  # type: ignore[arg-type]
    assert server.lines == [
        f'django.server "GET /api/v1/mdt/feeds/***.ics HTTP/1.1" {s} 512' for s in ("200", "404", "500")
    ]
    # and its configured handler (the one runserver writes to) masks too
    (handler,) = [h for h in logging.getLogger("django.server").handlers if isinstance(h.formatter, ServerFormatter)]
    assert any(isinstance(f, SecretPathFilter) for f in handler.filters)
    lines += server.lines

    # 3. gunicorn: the logger class and format of config/gunicorn.py, as gunicorn loads them
    from gunicorn.config import Config

    import config.gunicorn as gunicorn_settings

    cfg = Config()
    for name, value in vars(gunicorn_settings).items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.logger_class is gunicorn_settings.SecretMaskingLogger
    access, error = collect("gunicorn.access"), collect("gunicorn.error")
    glog = cfg.logger_class(cfg)
    url = f"/api/v1/mdt/feeds/{feed_token}.ics"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": url + "?first_name=Jasmine",
        "PATH_INFO": url,
        "QUERY_STRING": "first_name=Jasmine",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://harbor.example{url}",
    }
    request = SimpleNamespace(headers=[("REFERER", f"https://harbor.example{url}")])
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("X-Request-ID", "abc123")])
    glog.access(response, request, environ, dt.timedelta(milliseconds=7))
    # every atom a format could name is masked, not only those of the default format
    cfg.set("access_log_format", "%(r)s %(U)s %(q)s %(f)s %({referer}i)s %({raw_uri}e)s")
    glog.access(response, request, environ, dt.timedelta(milliseconds=7))
    glog.error("Error handling request %s", environ["RAW_URI"])
    assert access.lines[0].startswith("gunicorn.access 127.0.0.1 [")
    assert access.lines[0].endswith('"GET /api/v1/mdt/feeds/***.ics HTTP/1.1" 200 512 7ms rid=abc123')
    assert "Jasmine" not in " ".join(access.lines + error.lines)
    assert error.lines == ["gunicorn.error Error handling request /api/v1/mdt/feeds/***.ics?***"]
    lines += access.lines + error.lines

    # then no line anywhere carries the token
    assert lines
    leaked = [line for line in lines if any(secret in line for secret in secrets)]
    assert leaked == []


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Not Found: /api/v1/mdt/feeds/AbC-_123.ics", "Not Found: /api/v1/mdt/feeds/***.ics"),
        ('"GET /api/v1/mdt/feeds/AbC.ics?x=1 HTTP/1.1" 200', '"GET /api/v1/mdt/feeds/***.ics?*** HTTP/1.1" 200'),
        ("/api/v1/mdt/feeds/AbC", "/api/v1/mdt/feeds/***"),
        ("/accounts/set-password/MTI/c4x-9f8e/", "/accounts/set-password/MTI/***/"),
        ("/accounts/set-password/MTI/set-password/", "/accounts/set-password/MTI/set-password/"),
        ("GET /api/v1/youth/matches/?first_name=Jasmine&date_of_birth=2010-03-14", "GET /api/v1/youth/matches/?***"),
        ("/api/v1/cases/12/ 200", "/api/v1/cases/12/ 200"),
        ("sweep done in 2.1s", "sweep done in 2.1s"),
    ],
)
def test_mask_secrets(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


def test_a_record_keeps_its_arguments_when_nothing_is_secret() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "case %s read by %d", ("/api/v1/cases/1/", 7), None)
    assert SecretPathFilter().filter(record) is True
    assert record.args == ("/api/v1/cases/1/", 7) and record.getMessage() == "case /api/v1/cases/1/ read by 7"
