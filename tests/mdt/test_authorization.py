"""The MDT authorization matrix (SPEC §1, §8): every MDT operation × role × scope, as data.

Scopes are in the roles: the STAR coordinator and members (one of them the action item's
assignee) act on their own team's objects; the DREAM coordinator, an MDT member on no team, a
case worker on no team, and the admin roles act on objects they may not see. Every successful
call must also leave an audit event. A test fails when an MDT operation of the OpenAPI schema
has no row here."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from mdt.services.action_items import action_item_create
from mdt.services.calendar_feeds import calendar_feed_rotate
from mdt.services.meetings import meeting_hold, meeting_publish
from tests.mdt.factories import CaseFactory
from tests.mdt.support import NEXT_WEEK, T0, add, schedule

ROLES = [
    "anonymous",
    "coordinator",
    "member",
    "assignee",
    "other_team",
    "outsider",
    "case_worker",
    "agency_admin",
    "auditor",
    "system_admin",
]
TEAM = {"coordinator", "member", "assignee"}
MAY_SIT = TEAM | {"other_team", "outsider", "case_worker"}


def expect(default: int, **by_role: int) -> dict[str, int]:
    table = {role: default for role in ROLES}
    table["anonymous"] = 401
    table.update(by_role)
    return table


def own_team(coordinator: int, member: int, others: int = 404) -> dict[str, int]:
    """Meeting-scoped: coordinators act, members read or get 403, everyone else 404."""
    return expect(others, coordinator=coordinator, member=member, assignee=member)


# operation -> (method, path, meeting state, body, audit actions, expected status by role)
OPERATIONS: dict[str, tuple[str, str, str, dict[str, Any] | None, set[str], dict[str, int]]] = {
    "team_list": ("get", "/api/v1/mdt/teams/", "published", None, {"list"}, expect(200)),
    "team_members": (
        "get",
        "/api/v1/mdt/teams/{team}/members/",
        "published",
        None,
        {"list"},
        expect(403, coordinator=200, member=200, assignee=200, system_admin=200),
    ),
    "team_member_add": (
        "post",
        "/api/v1/mdt/teams/{team}/members/",
        "published",
        {"user": "{outsider}"},
        {"access_change"},
        expect(403, system_admin=201),
    ),
    "team_member_remove": (
        "delete",
        "/api/v1/mdt/teams/{team}/members/{member_user}/",
        "published",
        None,
        {"access_change"},
        expect(403, system_admin=204),
    ),
    "meeting_list": ("get", "/api/v1/mdt/meetings/", "published", None, {"list"}, expect(200)),
    "meeting_create": (
        "post",
        "/api/v1/mdt/meetings/",
        "published",
        {"team": "{team}", "starts_at": "2026-03-18T09:00:00-07:00", "ends_at": "2026-03-18T11:00:00-07:00"},
        {"create"},
        expect(403, coordinator=201),
    ),
    "meeting_detail": ("get", "/api/v1/mdt/meetings/{meeting}/", "published", None, {"view"}, own_team(200, 200)),
    "meeting_patch": (
        "patch",
        "/api/v1/mdt/meetings/{meeting}/",
        "published",
        {"location": "Video link"},
        {"update"},
        own_team(200, 403),
    ),
    "item_list": ("get", "/api/v1/mdt/meetings/{meeting}/items/", "published", None, {"list"}, own_team(200, 200)),
    "item_add": (
        "post",
        "/api/v1/mdt/meetings/{meeting}/items/",
        "published",
        {"case": "{extra_case}", "reason": "other"},
        {"create"},
        own_team(201, 403),
    ),
    "item_reorder": (
        "post",
        "/api/v1/mdt/meetings/{meeting}/items/reorder/",
        "published",
        {"items": "{item_ids}"},
        {"update"},
        own_team(200, 403),
    ),
    "publish": (
        "post",
        "/api/v1/mdt/meetings/{meeting}/publish/",
        "scheduled",
        None,
        {"transition"},
        own_team(200, 403),
    ),
    "hold": ("post", "/api/v1/mdt/meetings/{meeting}/hold/", "published", None, {"transition"}, own_team(200, 403)),
    "finalize_minutes": (
        "post",
        "/api/v1/mdt/meetings/{meeting}/finalize-minutes/",
        "held",
        {"minutes": "Minutes."},
        {"transition"},
        own_team(200, 403),
    ),
    "cancel": (
        "post",
        "/api/v1/mdt/meetings/{meeting}/cancel/",
        "published",
        {"reason": "holiday"},
        {"transition"},
        own_team(200, 403),
    ),
    "agenda_json": ("get", "/api/v1/mdt/meetings/{meeting}/agenda/", "published", None, {"view"}, own_team(200, 200)),
    "agenda_pdf": (
        "get",
        "/api/v1/mdt/meetings/{meeting}/agenda/?format=pdf",
        "published",
        None,
        {"export"},
        own_team(200, 200),
    ),
    "calendar_ics": (
        "get",
        "/api/v1/mdt/meetings/{meeting}/calendar.ics",
        "published",
        None,
        {"export"},
        own_team(200, 200),
    ),
    "attendance_list": (
        "get",
        "/api/v1/mdt/meetings/{meeting}/attendance/",
        "published",
        None,
        {"list"},
        own_team(200, 200),
    ),
    "attendance_record": (
        "post",
        "/api/v1/mdt/meetings/{meeting}/attendance/",
        "published",
        {"user": "{member_user}", "present": True},
        {"create"},
        own_team(201, 201),  # SPEC §1: MDT members record attendance,
    ),
    "suggestions": (
        "get",
        "/api/v1/mdt/meetings/{meeting}/suggestions/",
        "published",
        None,
        {"list"},
        own_team(200, 403),
    ),
    # SPEC §4: coordinators find their court's open cases by number (the agenda view only).
    "eligible_cases": (
        "get",
        "/api/v1/mdt/teams/{team}/eligible-cases/?number=2026",
        "published",
        None,
        {"list"},
        expect(403, coordinator=200),
    ),
    "item_patch": (
        "patch",
        "/api/v1/mdt/items/{item}/",
        "published",
        {"minutes_allotted": 5},
        {"update"},
        own_team(200, 403),
    ),
    "item_delete": ("delete", "/api/v1/mdt/items/{item}/", "published", None, {"delete"}, own_team(204, 403)),
    "review": (
        "post",
        "/api/v1/mdt/items/{item}/review/",
        "published",
        {"summary": "Doing well"},
        {"create"},
        own_team(200, 200),  # SPEC §1: MDT members record review outcomes,
    ),
    "action_item_list": ("get", "/api/v1/action-items/", "published", None, {"list"}, expect(200)),
    "action_item_create": (
        "post",
        "/api/v1/action-items/",
        "published",
        {
            "case": "{case}",
            "meeting": "{meeting}",
            "description": "Call school",
            "agency": "DA",
            "due_at": "2026-03-20T12:00:00Z",
        },
        {"create"},
        expect(400, coordinator=201, member=201, assignee=201, agency_admin=403, auditor=403, system_admin=403),
    ),
    "action_item_detail": ("get", "/api/v1/action-items/{action}/", "published", None, {"view"}, own_team(200, 200)),
    "action_item_patch": (
        "patch",
        "/api/v1/action-items/{action}/",
        "published",
        {"status": "done"},
        {"transition"},
        expect(404, coordinator=200, member=403, assignee=200),
    ),
    "calendar_feed_status": ("get", "/api/v1/mdt/calendar-feed/", "published", None, {"view"}, expect(200)),
    "calendar_feed_rotate": (
        "post",
        "/api/v1/mdt/calendar-feed/",
        "published",
        None,
        {"create", "update"},
        expect(403, **{role: 201 for role in MAY_SIT}),
    ),
    "calendar_feed_revoke": ("delete", "/api/v1/mdt/calendar-feed/", "published", None, {"delete"}, expect(204)),
    # The public feed needs no credentials: the secret in the path is the credential.
    "calendar_feed_public": (
        "get",
        "/api/v1/mdt/feeds/{token}.ics",
        "published",
        None,
        set(),
        {role: 200 for role in ROLES},
    ),
}

#: (method, OpenAPI path) of every operation above, to check the matrix covers the schema.
SCHEMA_OPERATIONS = {
    (
        method,
        path.split("?")[0]
        .replace("{team}", "{id}")
        .replace("{meeting}", "{id}")
        .replace("{item}", "{id}")
        .replace("{action}", "{id}")
        .replace("{member_user}", "{user_id}"),
    )
    for method, path, *_ in OPERATIONS.values()
}

ROWS = [(op, role, table[role]) for op, (_, _, _, _, _, table) in OPERATIONS.items() for role in ROLES]


@pytest.fixture
def world(people, star, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = schedule(star, people.star_coordinator, NEXT_WEEK)
    item = add(meeting, case, people.star_coordinator)
    return SimpleNamespace(case=case, meeting=meeting, item=item, extra_case=CaseFactory(court="STAR"))


def _bring_to(state: str, world: Any, people: Any) -> None:
    coordinator = people.star_coordinator
    if state in {"published", "held"}:
        meeting_publish(meeting=world.meeting, actor=coordinator)
        world.action = action_item_create(
            case_id=world.case.pk,
            meeting=world.meeting,
            description="Call school",
            assignee=people.dmh_clinician,
            agency=people.agencies["DMH"],
            due_at=T0 + dt.timedelta(days=3),
            actor=coordinator,
        )
    if state == "held":
        meeting_hold(meeting=world.meeting, actor=coordinator)


def _client(role: str, people: Any, make_client: Any) -> tuple[APIClient, Any]:
    user = {
        "anonymous": None,
        "coordinator": people.star_coordinator,
        "member": people.da_member,
        "assignee": people.dmh_clinician,
        "other_team": people.dream_coordinator,
        "outsider": people.outsider,
        "case_worker": people.case_worker,
        "agency_admin": people.agency_admin,
        "auditor": people.auditor,
        "system_admin": people.system_admin,
    }[role]
    return (APIClient() if user is None else make_client(user)), user


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return names[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.django_db
@pytest.mark.parametrize("operation, role, expected", ROWS, ids=[f"{op}-{role}" for op, role, _ in ROWS])
def test_authorization_matrix(operation, role, expected, world, people, star, make_client):  # type: ignore[no-untyped-def]
    method, path, state, body, audit_actions, _ = OPERATIONS[operation]
    _bring_to(state, world, people)
    _, token = calendar_feed_rotate(actor=people.da_member)
    names = {
        "team": star.pk,
        "meeting": world.meeting.pk,
        "item": world.item.pk,
        "item_ids": [world.item.pk],
        "action": getattr(world, "action", None) and world.action.pk,
        "case": world.case.pk,
        "extra_case": world.extra_case.pk,
        "outsider": people.outsider.pk,
        "member_user": people.da_member.pk,
        "token": token,
    }
    client, user = _client(role, people, make_client)
    before = AuditEvent.objects.filter(actor_id=getattr(user, "pk", None)).count()
    # when
    url = path.format(**names)
    response = (
        getattr(client, method)(url, _fill(body, names), format="json")
        if body is not None
        else getattr(client, method)(url)
    )
    # then
    assert response.status_code == expected, (operation, role, response.status_code, response.content[:300])
    if expected < 300 and user is not None and audit_actions:
        new = AuditEvent.objects.filter(actor_id=user.pk).order_by("id")[before:]
        assert {e.action for e in new} & audit_actions, (operation, role, [(e.action, e.object_type) for e in new])
    if expected == 404:
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_every_mdt_operation_of_the_schema_is_in_the_matrix():  # type: ignore[no-untyped-def]
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    in_schema = {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith(("/api/v1/mdt/", "/api/v1/action-items/"))
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    missing = in_schema - SCHEMA_OPERATIONS
    assert not missing, f"MDT operations without authorization rows: {sorted(missing)}"
    assert SCHEMA_OPERATIONS <= in_schema, sorted(SCHEMA_OPERATIONS - in_schema)
