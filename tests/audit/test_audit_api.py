"""GET /api/v1/audit-events/ (SPEC §6): auditors only, filterable by youth, actor and object."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services.record import AuditEntry, audit_record, audit_record_many
from core.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture
def auditor(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="auditor", agency=agencies["DCFS"], role=Role.AUDITOR)


@pytest.fixture
def worker(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)


@pytest.fixture
def events(worker, auditor):  # type: ignore[no-untyped-def]
    """A small log: the worker read youth 11 twice and case 5 (about youth 12); the auditor a user."""
    with transaction.atomic():
        return {
            "youth11_view": audit_record(actor=worker, action="view", object_type="youth", object_id=11, youth_id=11),
            "case5_view": audit_record(actor=worker, action="view", object_type="case", object_id=5, youth_id=12),
            "youth11_update": audit_record(
                actor=worker, action="update", object_type="youth", object_id=11, youth_id=11
            ),
            "user_view": audit_record(actor=auditor, action="view", object_type="user", object_id=worker.pk),
        }


def _ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    "role", [Role.CASE_WORKER, Role.SUPERVISOR, Role.MDT_MEMBER, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN]
)
def test_only_auditors_read_the_log(make_client, agencies, events, role):
    # given
    user = UserFactory(username=f"a_{role}", agency=agencies["DCFS"], role=role)

    # when
    response = make_client(user).get(URL)

    # then
    assert response.status_code == 403


def test_a_superuser_is_not_an_auditor(make_client, system_admin, events):
    # when
    response = make_client(system_admin).get(URL)

    # then
    assert response.status_code == 403


def test_anonymous_gets_401(events):
    # when
    response = APIClient().get(URL)

    # then
    assert response.status_code == 401


def test_auditor_reads_the_log_newest_first(make_client, auditor, events):
    # when
    response = make_client(auditor).get(URL)

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"next", "previous", "results"}
    ids = _ids(response)
    assert ids == sorted(ids, reverse=True)
    assert {e.pk for e in events.values()} <= set(ids)
    row = next(r for r in body["results"] if r["id"] == events["case5_view"].pk)
    assert {k: row[k] for k in ("actor_id", "actor_agency", "action", "object_type", "object_id", "youth_id")} == {
        "actor_id": events["case5_view"].actor_id,
        "actor_agency": "DCFS",
        "action": "view",
        "object_type": "case",
        "object_id": "5",
        "youth_id": 12,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("youth=11", ["youth11_update", "youth11_view"]),
        ("youth=12", ["case5_view"]),
        ("object_type=youth&object_id=11", ["youth11_update", "youth11_view"]),
        ("object_type=case", ["case5_view"]),
        ("object_type=user", ["user_view"]),
        ("youth=999", []),
    ],
)
def test_filters(make_client, auditor, events, query, expected):
    # when
    response = make_client(auditor).get(f"{URL}?{query}")

    # then
    assert response.status_code == 200
    assert _ids(response) == [events[name].pk for name in expected]


def test_filter_by_actor(make_client, auditor, worker, events):
    # when
    response = make_client(auditor).get(f"{URL}?actor={worker.pk}&object_type=youth")

    # then
    assert _ids(response) == [events["youth11_update"].pk, events["youth11_view"].pk]


@pytest.mark.parametrize("query", ["youth=abc", "actor=1.5x", "cursor=not-a-cursor"])
def test_bad_filter_values_are_client_errors(make_client, auditor, events, query):
    # when
    response = make_client(auditor).get(f"{URL}?{query}")

    # then
    assert response.status_code in (400, 404)


def test_reading_the_log_is_itself_audited(make_client, auditor, events):
    # when
    make_client(auditor).get(f"{URL}?youth=11")

    # then
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LIST, object_type="audit_event").get()
    assert (event.actor_id, event.detail) == (auditor.pk, {"youth": 11})


def test_pages_follow_the_cursor(make_client, auditor, worker):
    # given
    audit_record_many(actor=worker, entries=[AuditEntry("view", "case", i) for i in range(7)])
    client = make_client(auditor)

    # when
    first = client.get(f"{URL}?page_size=5&object_type=case")
    second = client.get(first.json()["next"])

    # then
    assert len(first.json()["results"]) == 5
    assert len(second.json()["results"]) == 2
    assert not set(_ids(first)) & set(_ids(second))


@pytest.mark.parametrize("rows", [1, 50])
def test_query_count_does_not_depend_on_page_size(make_client, auditor, worker, django_assert_num_queries, rows):
    # given
    audit_record_many(actor=worker, entries=[AuditEntry("view", "case", i) for i in range(rows)])
    client = make_client(auditor)

    # when / then: token + user, page, the actor's agency code, the audit insert and its MAC's
    # id (drawn first on PostgreSQL, signed after the insert on SQLite), with its savepoint pair
    with django_assert_num_queries(7):
        response = client.get(f"{URL}?object_type=case")
    assert len(response.json()["results"]) == rows
