"""The notifications authorization matrix (SPEC §1, §8): every operation × role × scope, as data.

The scope lives in the roles: a DCFS-led case with a DCFS worker on its team; its missing-episode
deadline (responsible: DCFS, the lead) and a reminder in the DCFS worker's inbox. Supervisors of
the lead agency, of a participating agency and of an agency not on the case; a worker of the lead
agency not on the team; an MDT member; the admin roles. A test fails when a notifications
operation of the OpenAPI schema has no row here."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from notifications.models import Notification
from notifications.services.sweep import deadlines_sweep
from tests.notifications.support import T0, H, build_world, open_rule

ROLES = {
    "anonymous": None,
    "lead_supervisor": "dcfs_supervisor",  # supervisor of the responsible agency
    "team_worker": "dcfs_worker",  # on the case team; the notification's recipient
    "participating_supervisor": "sheriff_supervisor",  # sees the case (18961.7 grant), not responsible
    "outside_supervisor": "probation_supervisor",  # agency not on the case
    "outside_worker": "dcfs_worker2",  # lead agency, not on the team
    "mdt_member": "mdt_member",
    "agency_admin": "agency_admin",
    "auditor": "auditor",
    "system_admin": "system_admin",
}


def expect(default: int, **by_role: int) -> dict[str, int]:
    table = dict.fromkeys(ROLES, default)
    table["anonymous"] = 401
    table.update(by_role)
    return table


#: operation -> (method, path, body, status by role, roles that see the scoped object in the answer)
OPERATIONS: dict[str, tuple[str, str, dict[str, Any] | None, dict[str, int], set[str]]] = {
    "deadline_list": (
        "get",
        "/api/v1/deadlines/",
        None,
        expect(200),
        {"lead_supervisor", "team_worker", "participating_supervisor"},
    ),
    "deadline_waive": (
        "post",
        "/api/v1/deadlines/{deadline}/waive/",
        {"reason": "Court excused the notice"},
        expect(404, lead_supervisor=200, team_worker=403, participating_supervisor=403),
        set(),
    ),
    "notification_list": ("get", "/api/v1/notifications/", None, expect(200), {"team_worker"}),
    "notification_unread_count": ("get", "/api/v1/notifications/unread-count/", None, expect(200), set()),
    "notification_read": (
        "post",
        "/api/v1/notifications/{notification}/read/",
        None,
        expect(404, team_worker=200),
        set(),
    ),
    "preferences_get": ("get", "/api/v1/notification-preferences/", None, expect(200), set()),
    "preferences_put": (
        "put",
        "/api/v1/notification-preferences/",
        {"rules": [{"rule": "missing_attorney_24h", "email": False}]},
        expect(200),
        set(),
    ),
}


@pytest.fixture
def scope(cast, clock):  # type: ignore[no-untyped-def]
    world = build_world(cast)
    deadline = open_rule(world, "missing_attorney_24h")
    clock.move_to(T0 + 16 * H)
    deadlines_sweep(redeliver=False)
    notification = Notification.objects.get(deadline=deadline, recipient=cast.dcfs_worker)
    return {"deadline": deadline.pk, "notification": notification.pk}


def _client(cast, role: str, make_client) -> APIClient:  # type: ignore[no-untyped-def]
    username = ROLES[role]
    return APIClient() if username is None else make_client(getattr(cast, username))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_authorization_matrix(cast, scope, make_client, operation, role):
    method, path, body, statuses, sees = OPERATIONS[operation]
    client = _client(cast, role, make_client)

    response = getattr(client, method)(path.format(**scope), body, format="json")

    assert response.status_code == statuses[role], response.content
    if method == "get" and response.status_code == 200 and "results" in response.json():
        ids = {row["id"] for row in response.json()["results"]}
        shown = scope["deadline"] in ids if operation == "deadline_list" else scope["notification"] in ids
        assert shown == (role in sees)


def test_every_notifications_operation_has_a_row():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    ours = {
        (method.lower(), path)
        for path, item in schema["paths"].items()
        if path.startswith(("/api/v1/deadlines", "/api/v1/notifications", "/api/v1/notification-preferences"))
        for method in item
    }
    covered = {
        (m, p.replace("{deadline}", "{id}").replace("{notification}", "{id}")) for m, p, *_ in OPERATIONS.values()
    }
    assert ours == covered
