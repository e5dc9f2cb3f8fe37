"""Metrics for Prometheus (SPEC §7) on a path only operators reach: `GET /metrics/` with the
bearer token of HARBOR_METRICS_TOKEN; 404 otherwise."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from ops.heartbeats import AUDIT_SEAL, SWEEP, heartbeat_record
from tests.conftest import client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def operator(settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_METRICS_TOKEN = TOKEN
    return lambda: Client().get("/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def _value(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    match = re.search(pattern, text, flags=re.MULTILINE)
    assert match, f"{name}{labels} not in the scrape"
    return float(match.group(1))


def test_without_the_token_the_path_does_not_exist(settings):
    settings.HARBOR_METRICS_TOKEN = TOKEN
    client = Client()
    assert client.get("/metrics/").status_code == 404
    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics/", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 404
    assert client.post("/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404
    # a staff member's API token is not an operator's
    admin = UserFactory(role="system_admin", agency=None, is_superuser=True)
    assert client_for(admin).get("/metrics/").status_code == 404
    response = client.get("/metrics/")
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_no_token_configured_means_no_metrics_at_all(settings):
    settings.HARBOR_METRICS_TOKEN = ""
    assert Client().get("/metrics/", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    settings.HARBOR_METRICS_TOKEN = "short"
    assert Client().get("/metrics/", HTTP_AUTHORIZATION="Bearer short").status_code == 404


def test_an_operator_scrapes_requests_by_route_and_queries(operator):
    user = UserFactory(agency=AgencyFactory(code="DCFS"), role="case_worker")
    client_for(user).get("/api/v1/me/")

    response = operator()

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert (
        _value(text, "harbor_http_request_duration_seconds_count", '{method="GET",route="api/v1/me/",status="200"}')
        >= 1
    )
    assert _value(text, "harbor_http_request_db_queries_count", '{route="api/v1/me/"}') >= 1
    assert "django_http_requests_total_by_method_total" in text  # django-prometheus's own
    assert "/api/v1/me/" not in text.replace('route="api/v1/me/"', "")  # routes, never paths


def test_state_metrics_read_from_the_database(operator, settings, tmp_path):
    from audit.services.chain import audit_seal
    from audit.services.checkpoints import audit_checkpoint
    from audit.services.record import audit_record

    settings.HARBOR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")  # not the suite's file

    now = timezone.now()
    heartbeat_record(SWEEP, at=now - dt.timedelta(seconds=90))
    heartbeat_record(AUDIT_SEAL, at=now)
    admin = UserFactory(role="system_admin", agency=None, is_superuser=True)
    audit_record(actor=admin, action="read", object_type="case", object_id=1)
    audit_seal()
    audit_checkpoint()
    audit_record(actor=admin, action="read", object_type="case", object_id=2)

    text = operator().content.decode()

    assert 89 <= _value(text, "harbor_sweep_lag_seconds") < 120
    assert _value(text, "harbor_audit_unsealed_events") == 1
    assert 0 <= _value(text, "harbor_audit_seal_lag_seconds") < 30
    assert 0 <= _value(text, "harbor_audit_checkpoint_age_seconds") < 30
    assert _value(text, "harbor_notifications", '{state="pending"}') == 0
    assert _value(text, "harbor_notifications", '{state="failed"}') == 0
    assert _value(text, "harbor_notifications_retried") == 0
    assert "harbor_celery_queue_depth" in text
    assert _value(text, "harbor_heartbeat_age_seconds", '{job="audit_seal"}') < 30


def test_task_outcomes_are_counted(operator):
    from notifications.tasks import sweep_deadlines_task

    sweep_deadlines_task.apply()

    text = operator().content.decode()
    assert (
        _value(text, "harbor_celery_tasks_total", '{outcome="success",task="notifications.tasks.sweep_deadlines_task"}')
        >= 1
    )


@pytest.mark.redis
def test_queue_depth_counts_waiting_messages(operator, settings):
    from config.celery import app

    queue = "harbor-metrics-test"
    settings.HARBOR_NOTIFICATIONS_QUEUE = queue
    with app.connection_for_write() as conn:
        simple = conn.SimpleQueue(queue)
        simple.clear()
        for _ in range(3):
            simple.put({"x": 1})
        try:
            text = operator().content.decode()
        finally:
            simple.clear()
            simple.close()
    assert _value(text, "harbor_celery_queue_depth", f'{{queue="{queue}"}}') == 3
