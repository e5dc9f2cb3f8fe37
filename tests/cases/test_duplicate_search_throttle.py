"""The duplicate search's budget (SPEC §2): per user, 20 searches an hour and 100 a day by
default, then 429; the youth and referral creates' duplicate reports count against it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Youth
from cases.throttles import duplicate_search_take, parse_rate

from .factories import create_youth

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RATES = ["20/hour", "100/day"]
SEARCH = "/api/v1/youth/matches/?first_name=Jasmine&last_name=Carter&date_of_birth=2010-03-14"


@pytest.fixture(autouse=True)
def real_rates(settings):  # type: ignore[no-untyped-def]
    # The test settings raise the rates for every other test; these tests use SPEC's.
    settings.HARBOR_DUPLICATE_SEARCH_RATES = DEFAULT_RATES


def _rates_of(module: str, **env: str) -> str:
    """The rates a settings module computes, in a fresh interpreter (each module reads its
    environment once, at import)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"HARBOR_DUPLICATE_SEARCH_RATES", "DATABASE_URL"}}
    clean.update(
        SECRET_KEY="s" * 50,
        HARBOR_FIELD_KEYS=Fernet.generate_key().decode(),
        HARBOR_BLIND_INDEX_KEY="b" * 32,
        HARBOR_AUDIT_KEY="c" * 32,
        ALLOWED_HOSTS="harbor.example.invalid",
        **env,
    )
    code = f"import importlib; print(importlib.import_module({module!r}).HARBOR_DUPLICATE_SEARCH_RATES)"
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed program
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize("module", ["config.settings.base", "config.settings.local", "config.settings.production"])
def test_the_defaults_are_20_an_hour_and_100_a_day_wherever_it_is_deployed(module):  # type: ignore[no-untyped-def]
    assert _rates_of(module) == "['20/hour', '100/day']"


def test_the_rates_come_from_the_environment():  # type: ignore[no-untyped-def]
    assert _rates_of("config.settings.production", HARBOR_DUPLICATE_SEARCH_RATES="5/hour,40/day") == (
        "['5/hour', '40/day']"
    )
    assert parse_rate("5/hour") == (5, 3600) and parse_rate("40/day") == (40, 86400)


def test_the_21st_search_in_an_hour_answers_429_in_the_error_shape(people, as_user, make_client):  # type: ignore[no-untyped-def]
    client = as_user(people.probation_case_worker)
    # when
    statuses = [client.get(SEARCH).status_code for _ in range(20)]
    refused = client.get(SEARCH)
    # then
    assert statuses == [200] * 20
    assert refused.status_code == 429
    assert refused.json() == {"code": "throttled", "detail": refused.json()["detail"]}
    assert 0 < int(refused["Retry-After"]) <= 3600 + 60
    # and the refused search is recorded, without a query
    denied = AuditEvent.objects.filter(actor_id=people.probation_case_worker.pk, action="search", outcome="denied")
    assert denied.count() == 1 and "query" not in denied.get().detail
    # and it is per user: another worker of the same agency still searches
    assert as_user(people.dcfs_worker2).get(SEARCH).status_code == 200
    # and an hour later the first searches have left the window (a new token: the first idled out)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=62)):
        assert make_client(people.probation_case_worker).get(SEARCH).status_code == 200


def test_the_101st_search_in_a_day_answers_429(people, make_client):  # type: ignore[no-untyped-def]
    user = people.probation_case_worker
    start = timezone.now()
    statuses = []
    for hour in range(5):  # 20 an hour for five hours: each hour within the hourly rate
        with time_machine.travel(start + dt.timedelta(minutes=62 * hour)):
            client = make_client(user)  # tokens idle out after 30 minutes
            statuses += [client.get(SEARCH).status_code for _ in range(20)]
    assert statuses == [200] * 100
    with time_machine.travel(start + dt.timedelta(hours=7)):  # a fresh hour, the same day
        assert make_client(user).get(SEARCH).status_code == 429
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=62 * 4 + 30)):
        assert make_client(user).get(SEARCH).status_code == 200


def test_the_budget_counts_exactly_and_refusals_cost_nothing(people):  # type: ignore[no-untyped-def]
    user = people.probation_case_worker
    now = 1_800_000_000.0  # the start of a minute
    taken = [duplicate_search_take(user=user, now=now + i) for i in range(25)]
    assert [t.allowed for t in taken] == [True] * 20 + [False] * 5
    # the refusal says when a search is free again: when the first leaves the window
    assert 3600 - 20 <= taken[20].wait <= 3600 + 60
    # a search 59 minutes in is still inside the window; after the hour, free again
    assert not duplicate_search_take(user=user, now=now + 59 * 60).allowed
    assert duplicate_search_take(user=user, now=now + 3600 + 120).allowed
    # the day's window counted only the 21 searches let through, not the refusals
    later = [duplicate_search_take(user=user, now=now + 7200 + i).allowed for i in range(20)]
    assert later == [True] * 19 + [False]  # the 2nd hour's search and 19 more: 20 this hour


def test_the_creates_count_toward_the_budget_and_over_it_report_only_what_the_caller_sees(people, as_user):  # type: ignore[no-untyped-def]
    # given: a record the caller may see and one another agency holds
    mine = create_youth(people.probation_case_worker, aliases=[])
    create_youth(people.sheriff_case_worker, aliases=[])
    client = as_user(people.probation_case_worker)
    body = {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": "2010-03-14"}
    # when: ten creates and ten searches use up the hour
    created = [client.post("/api/v1/youth/", body, format="json") for _ in range(10)]
    assert all(c.status_code == 201 for c in created)
    assert {"agency": "SHERIFF"} in created[0].json()["possible_duplicates"]
    assert [client.get(SEARCH).status_code for _ in range(10)] == [200] * 10
    # then: the search endpoint refuses, and a create still succeeds without the hidden candidate
    assert client.get(SEARCH).status_code == 429
    over = client.post("/api/v1/youth/", body, format="json")
    assert over.status_code == 201
    found = over.json()["possible_duplicates"]
    assert mine.pk in [f.get("youth") for f in found] and not [f for f in found if "agency" in f]
    event = AuditEvent.objects.filter(actor_id=people.probation_case_worker.pk, action="search").order_by("-id")[0]
    assert event.detail["via"] == "youth_create" and event.detail["within_budget"] is False
    assert len(event.detail["query"]) == 64


def test_over_the_budget_a_create_sending_external_ids_answers_429_and_writes_nothing(people, as_user):  # type: ignore[no-untyped-def]
    client = as_user(people.probation_case_worker)
    assert [client.get(SEARCH).status_code for _ in range(20)] == [200] * 20
    before = Youth.objects.count()
    # when: whether or not the number is held by anyone
    answer = client.post(
        "/api/v1/youth/",
        {"first_name": "Ana", "last_name": "Reyes", "external_ids": [{"agency": "DCFS", "value": "HL-1"}]},
        format="json",
    )
    # then
    assert answer.status_code == 429 and answer.json()["code"] == "throttled"
    assert Youth.objects.count() == before
    # and without the numbers the create goes through
    assert client.post("/api/v1/youth/", {"first_name": "Ana", "last_name": "Reyes"}, format="json").status_code == 201


def test_with_the_cache_unreachable_a_create_succeeds_without_hidden_candidates_and_the_search_answers_429(
    people, as_user, monkeypatch
):  # type: ignore[no-untyped-def]
    """Redis restarting (found by `make soak`): the budget cannot be counted, so it is spent —
    intake goes on, the search endpoint is refused, and no hidden record is hinted at."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from cases import throttles

    mine = create_youth(people.probation_case_worker, aliases=[])
    create_youth(people.sheriff_case_worker, aliases=[])

    class Unreachable:
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
                raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

            return fail

    monkeypatch.setattr(throttles, "cache", Unreachable())
    client = as_user(people.probation_case_worker)
    body = {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": "2010-03-14"}
    created = client.post("/api/v1/youth/", body, format="json")
    assert created.status_code == 201, created.content
    found = created.json()["possible_duplicates"]
    assert mine.pk in [f.get("youth") for f in found] and not [f for f in found if "agency" in f]
    refused = client.get(SEARCH)
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
