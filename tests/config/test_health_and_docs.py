"""/health/, the OpenAPI schema and the interactive docs (SPEC §6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_broker_without_versions():
    # when
    response = Client().get("/health/")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "Server" not in response
    assert not re.search(r"\d+\.\d+", response.content.decode())


def test_health_says_degraded_when_the_broker_is_down(settings, monkeypatch):
    # given: a broker that refuses every connection
    from config.celery import app

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(app, "connection_for_write", refuse)

    # when
    response = Client().get("/health/")

    # then: the reason stays in the server, the client learns which part is down
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "unavailable"}


def test_health_needs_no_token():
    # when
    response = Client().get("/health/", HTTP_AUTHORIZATION="Token rubbish")

    # then
    assert response.status_code == 200


def test_docs_are_served_from_local_static_files():
    # given
    browser = Client()

    # when
    response = browser.get("/api/docs/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for cdn in ("cdn", "jsdelivr", "unpkg"):
        assert cdn not in html.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert all(a.startswith("/static/") for a in assets), assets
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts
    for asset in scripts:
        assert browser.get(asset).status_code == 200, asset


def test_the_schema_is_served_and_lists_the_foundation_paths():
    # when
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    # then
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/auth/logout/",
        "/api/v1/me/",
        "/api/v1/users/",
        "/api/v1/users/{id}/",
        "/api/v1/users/{id}/deactivate/",
        "/api/v1/agencies/",
        "/api/v1/audit-events/",
    ):
        assert path in paths, path


def test_spectacular_validates_without_warnings(tmp_path: Path):
    # when: warnings and validation errors make the command fail
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    # then
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")
