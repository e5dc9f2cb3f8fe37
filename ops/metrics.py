"""Prometheus metrics (SPEC §7), for operators only: `GET /metrics/` with
`Authorization: Bearer $HARBOR_METRICS_TOKEN`; without the token (or with none configured) the
path answers 404 like any unknown path.

Two kinds:

- counted in the process as things happen: django-prometheus's own (requests, responses,
  exceptions, by view and method), and ours — request latency and database queries per request
  by route pattern (ops/middleware.py), Celery task outcomes by task name (ops/signals.py);
- read from the database and the broker when scraped, so every web process answers the same:
  queue depth, sweep lag, notifications pending/failed/retried, unsealed audit events, seal lag,
  the age of the last audit checkpoint, each heartbeat's age.

Under gunicorn with several workers (and Celery workers on the same host), set
PROMETHEUS_MULTIPROC_DIR to a directory all of them share (emptied at start): the counters of
every process are then summed in each scrape (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import math
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .heartbeats import AUDIT_CHECKPOINT, AUDIT_SEAL, SWEEP

REQUEST_SECONDS = Histogram(
    "harbor_http_request_duration_seconds",
    "Request latency by route pattern (not path), method and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUEST_QUERIES = Histogram(
    "harbor_http_request_db_queries",
    "Database queries per request, by route pattern.",
    ["route"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)
TASKS = Counter("harbor_celery_tasks", "Celery task outcomes by task name.", ["task", "outcome"])


def observe_request(method: str, route: str, status: int, seconds: float, queries: int) -> None:
    REQUEST_SECONDS.labels(route=route, method=method, status=str(status)).observe(seconds)
    REQUEST_QUERIES.labels(route=route).observe(queries)


def count_task(task: str, outcome: str) -> None:
    TASKS.labels(task=task or "unknown", outcome=outcome).inc()


def _queues() -> list[str]:
    names = ["celery", getattr(settings, "HARBOR_NOTIFICATIONS_QUEUE", None)]
    return [n for n in dict.fromkeys(names) if n]


def _seconds_since(at: Any, now: Any) -> float:
    return math.nan if at is None else max(0.0, (now - at).total_seconds())


class StateCollector(Collector):
    """What the database and the broker say at scrape time. A part that cannot be read is left
    out of the scrape (its alert rule then fires on `absent(...)`), never an error page."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._broker()
        yield from self._database()

    def _broker(self) -> Iterator[GaugeMetricFamily]:
        from celery import current_app

        depth = GaugeMetricFamily("harbor_celery_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
        try:
            with current_app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                channel = conn.default_channel
                for queue in _queues():
                    try:
                        depth.add_metric([queue], channel.queue_declare(queue=queue, passive=True).message_count)
                    except Exception:
                        depth.add_metric([queue], 0)  # not declared yet: nothing ever waited there
        except Exception:
            return
        yield depth

    def _database(self) -> Iterator[GaugeMetricFamily]:
        from audit.models import AuditCheckpoint, AuditEvent
        from notifications.models import Notification

        from .models import Heartbeat

        now = timezone.now()
        try:
            beats = dict(Heartbeat.objects.values_list("name", "at"))
            states = dict(
                Notification.objects.values_list("delivery_status")
                .annotate(n=Count("id"))
                .values_list("delivery_status", "n")
            )
            retried = Notification.objects.filter(attempts__gt=1).aggregate(
                n=Count("id"), pending=Count("id", filter=Q(delivery_status=Notification.Delivery.PENDING))
            )
            unsealed = AuditEvent.objects.filter(seq__isnull=True).aggregate(n=Count("id"), oldest=Min("occurred_at"))
            checkpoint = AuditCheckpoint.objects.order_by("-created_at").values_list("created_at", flat=True).first()
        except Exception:
            return
        yield GaugeMetricFamily(
            "harbor_sweep_lag_seconds",
            "Seconds since the last completed deadline sweep.",
            value=_seconds_since(beats.get(SWEEP), now),
        )
        ages = GaugeMetricFamily(
            "harbor_heartbeat_age_seconds", "Seconds since each periodic job last completed.", labels=["job"]
        )
        for name in (SWEEP, AUDIT_SEAL, AUDIT_CHECKPOINT):
            ages.add_metric([name], _seconds_since(beats.get(name), now))
        yield ages
        notes = GaugeMetricFamily("harbor_notifications", "Notifications by delivery state.", labels=["state"])
        for state in Notification.Delivery.values:
            notes.add_metric([state], states.get(state, 0))
        yield notes
        yield GaugeMetricFamily(
            "harbor_notifications_retried", "Notifications that needed more than one attempt.", value=retried["n"]
        )
        yield GaugeMetricFamily(
            "harbor_notifications_retrying",
            "Pending notifications already tried at least twice.",
            value=retried["pending"],
        )
        yield GaugeMetricFamily(
            "harbor_audit_unsealed_events", "Audit events not yet in the chain.", value=unsealed["n"]
        )
        yield GaugeMetricFamily(
            "harbor_audit_seal_lag_seconds",
            "Age of the oldest audit event not yet sealed (0 when none waits).",
            value=_seconds_since(unsealed["oldest"], now) if unsealed["oldest"] else 0.0,
        )
        yield GaugeMetricFamily(
            "harbor_audit_checkpoint_age_seconds",
            "Seconds since the last signed audit checkpoint.",
            value=_seconds_since(checkpoint, now),
        )


_STATE = CollectorRegistry(auto_describe=False)
_STATE.register(StateCollector())


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _authorised(request: HttpRequest) -> bool:
    expected = getattr(settings, "HARBOR_METRICS_TOKEN", "") or ""
    if len(expected) < 16:  # unset, or too short to be a secret: the path does not exist
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics(request: HttpRequest) -> HttpResponse:
    if request.method != "GET" or not _authorised(request):
        from django.http import Http404

        raise Http404
    body = generate_latest(_process_registry()) + generate_latest(_STATE)
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
