"""Error reports (SPEC §7): Sentry only with SENTRY_DSN, and what leaves is scrubbed — no request
body, headers, cookies, query string or local variables. A real captured event, through a
transport stub (no network)."""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from django.test import Client
from sentry_sdk.transport import Transport

from ops.sentry import scrub_event, sentry_init
from tests.conftest import client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


class Captured(Transport):
    envelopes: list = []

    def capture_envelope(self, envelope):  # type: ignore[no-untyped-def]
        Captured.envelopes.append(envelope)


@pytest.fixture
def sentry():  # type: ignore[no-untyped-def]
    Captured.envelopes = []
    sentry_init("https://public@sentry.example.invalid/1", environment="test", transport=Captured)
    yield Captured.envelopes
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)


def _events(envelopes):  # type: ignore[no-untyped-def]
    return [
        item.payload.json for envelope in envelopes for item in envelope.items if item.headers.get("type") == "event"
    ]


def test_a_crash_reaches_sentry_without_body_headers_cookies_query_or_locals(sentry, monkeypatch):
    # given: a view that breaks while it holds a youth's name in a local and in the message
    from accounts import apis

    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        # built at run time: the report carries the source lines, which must not hold it either
        youth_name = " ".join(["Mari" + "sol", "Quin" + "tero"])
        raise RuntimeError(f"could not render {youth_name}")

    monkeypatch.setattr(apis.MeApi, "get", get)
    user = UserFactory(agency=AgencyFactory(code="DCFS"), role="case_worker", email="cw" + "@county.invalid")
    client = client_for(user)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "cookie-secret-1"

    # when
    response = client.get("/api/v1/me/?first_name=" + "Mari" + "sol", HTTP_X_CUSTOM="header-secret-2")
    sentry_sdk.flush()

    # then
    assert response.status_code == 500
    events = _events(sentry)  # the exception, and core.errors' error line (the logging integration)
    (event,) = [e for e in events if "exception" in e]
    text = json.dumps(events)
    for secret in (
        "Marisol",
        "Quintero",
        "cookie-secret-1",
        "header-secret-2",
        "Token ",
        "cw@county.invalid",
        "first_name",
    ):
        assert secret not in text, secret
    assert set(event.get("request", {})) <= {"method", "url"}
    assert "?" not in event.get("request", {}).get("url", "")
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and "value" not in exception
    frames = exception["stacktrace"]["frames"]
    assert frames and all("vars" not in frame for frame in frames)
    assert any(frame.get("function") == "get" for frame in frames)


def test_a_post_body_never_leaves(sentry, monkeypatch):
    from accounts import apis

    def post(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(apis.MeApi, "post", post, raising=False)
    monkeypatch.setattr(apis.MeApi, "http_method_names", [*apis.MeApi.http_method_names, "post"])
    user = UserFactory(agency=AgencyFactory(code="DCFS"), role="case_worker")
    client = client_for(user)
    client.raise_request_exception = False
    client.post("/api/v1/me/", {"narrative": "Seen at the pier"}, format="json")
    sentry_sdk.flush()
    text = json.dumps(_events(sentry))
    assert "pier" not in text and "narrative" not in text


def test_no_dsn_no_client(settings):
    assert not settings.SENTRY_DSN
    assert sentry_sdk.get_client().transport is None  # nothing could be sent


def test_the_scrubber_on_a_hand_made_event():
    event = {
        "request": {
            "method": "GET",
            "url": "https://h/api/v1/mdt/feeds/abc123.ics?x=1",
            "query_string": "x=1",
            "headers": {"Authorization": "Token t"},
            "cookies": {"sessionid": "s"},
            "data": {"narrative": "n"},
            "env": {"REMOTE_ADDR": "1.2.3.4"},
        },
        "logentry": {"message": "youth %s", "params": ["Marisol"], "formatted": "youth Marisol"},
        "breadcrumbs": {"values": [{"category": "query", "message": "SELECT … 'Marisol'", "data": {"p": 1}}]},
        "user": {"id": 7, "email": "a@b", "username": "u", "ip_address": "1.2.3.4"},
        "extra": {"sys.argv": ["x"]},
    }
    scrubbed = scrub_event(event)
    assert scrubbed["request"] == {"method": "GET", "url": "https://h/api/v1/mdt/feeds/***.ics"}
    assert "Marisol" not in json.dumps(scrubbed)
    assert scrubbed["user"] == {"id": 7} and "extra" not in scrubbed


def test_anonymous_crash_has_no_user(sentry, monkeypatch):
    from config import health

    def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("x")

    monkeypatch.setattr(health, "ready", broken)
    # the URLconf holds the function itself: break what it calls instead
    from ops import checks

    monkeypatch.setattr(checks, "readiness", lambda app, **kw: (_ for _ in ()).throw(RuntimeError("x")))
    Client(raise_request_exception=False).get("/health/ready/")
    sentry_sdk.flush()
    (event,) = [e for e in _events(sentry) if "exception" in e]
    assert event.get("user", {}) in ({}, None) or set(event["user"]) <= {"id"}
