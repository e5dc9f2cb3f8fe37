"""User management through the API (SPEC §1, §6): who may create, read, change and deactivate whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts import services
from accounts.models import User
from audit.models import AuditEvent
from core.permissions import Role
from tests.accounts.conftest import api_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Tidal-Lantern-Quarry-58"


def _user_body(username: str, **extra: object) -> dict:
    return {
        "username": username,
        "email": f"{username}@example.invalid",
        "first_name": "Pat",
        "last_name": "Example",
        **extra,
    }


def test_system_admin_creates_agency_admin_who_creates_a_case_worker(system_admin, agencies):
    # given
    root = api_login("root")

    # when
    created_admin = root.post("/api/v1/users/", _user_body("dcfs_lead", agency="DCFS", role=Role.AGENCY_ADMIN))
    # (the new admin chooses a password from their invitation link)
    services.user_password_set(user=User.objects.get(username="dcfs_lead"), password=STRONG_PASSWORD)
    dcfs_lead = api_login("dcfs_lead", STRONG_PASSWORD)
    created_worker = dcfs_lead.post("/api/v1/users/", _user_body("dcfs_sw1", agency="DCFS", role=Role.CASE_WORKER))

    # then
    assert created_admin.status_code == 201, created_admin.content
    assert created_admin.json()["agency"] == "DCFS"
    assert created_admin.json()["role"] == Role.AGENCY_ADMIN
    assert "password" not in created_admin.json()
    assert created_worker.status_code == 201, created_worker.content
    body = created_worker.json()
    assert {k: body[k] for k in ("username", "agency", "role", "is_active")} == {
        "username": "dcfs_sw1",
        "agency": "DCFS",
        "role": Role.CASE_WORKER,
        "is_active": True,
    }
    assert isinstance(body["id"], int)
    assert not User.objects.get(username="dcfs_sw1").has_usable_password()  # until the invitation is used


def test_agency_admin_creates_in_own_agency_when_agency_is_omitted(dcfs_admin):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.post("/api/v1/users/", _user_body("dcfs_sup", role=Role.SUPERVISOR))

    # then
    assert response.status_code == 201, response.content
    assert User.objects.get(username="dcfs_sup").agency.code == "DCFS"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"first_name": "Changed"}),
        ("patch", "", {"is_active": False}),
        ("post", "deactivate/", None),
        ("post", "reset-mfa/", None),
    ],
)
def test_agency_admin_gets_404_for_a_user_of_another_agency(dcfs_admin, probation_worker, method, suffix, body):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = getattr(client, method)(f"/api/v1/users/{probation_worker.pk}/{suffix}", body)

    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    probation_worker.refresh_from_db()
    assert probation_worker.first_name == "Test"
    assert probation_worker.is_active is True


def test_agency_admin_lists_only_own_agency(dcfs_admin, dcfs_worker, probation_worker):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.get("/api/v1/users/")

    # then
    assert response.status_code == 200
    usernames = {row["username"] for row in response.json()["results"]}
    assert usernames == {"dcfs_admin", "dcfs_worker"}


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.AUDITOR])
def test_agency_admin_cannot_grant_system_admin_or_auditor(dcfs_admin, role):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.post("/api/v1/users/", _user_body("escalated", agency="DCFS", role=role))

    # then
    assert response.status_code in (400, 403)
    assert not User.objects.filter(username="escalated").exists()


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.AUDITOR])
def test_agency_admin_cannot_promote_a_user_to_system_admin_or_auditor(dcfs_admin, dcfs_worker, role):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.patch(f"/api/v1/users/{dcfs_worker.pk}/", {"role": role})

    # then
    assert response.status_code in (400, 403)
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.role == Role.CASE_WORKER


def test_agency_admin_cannot_create_a_user_of_another_agency(dcfs_admin):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.post("/api/v1/users/", _user_body("intruder", agency="PROBATION", role=Role.CASE_WORKER))

    # then
    assert response.status_code in (400, 403)
    assert not User.objects.filter(username="intruder").exists()


def test_agency_admin_cannot_move_a_user_to_another_agency(dcfs_admin, dcfs_worker):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.patch(f"/api/v1/users/{dcfs_worker.pk}/", {"agency": "PROBATION"})

    # then
    assert response.status_code in (400, 403)
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.agency.code == "DCFS"


def test_agency_admin_cannot_change_a_system_admin_of_their_agency(dcfs_admin, agencies):
    # given
    sysadmin_at_dcfs = UserFactory(username="sys_dcfs", agency=agencies["DCFS"], role=Role.SYSTEM_ADMIN)
    client = api_login(dcfs_admin.username)

    # when
    patched = client.patch(f"/api/v1/users/{sysadmin_at_dcfs.pk}/", {"first_name": "Renamed"})
    deactivated = client.post(f"/api/v1/users/{sysadmin_at_dcfs.pk}/deactivate/")
    link = client.post(f"/api/v1/users/{sysadmin_at_dcfs.pk}/send-password-link/")

    # then
    assert patched.status_code in (400, 403)
    assert deactivated.status_code in (400, 403)
    assert link.status_code == 403
    sysadmin_at_dcfs.refresh_from_db()
    assert sysadmin_at_dcfs.is_active
    assert sysadmin_at_dcfs.first_name != "Renamed"


def test_agency_admin_deactivates_own_agency_user(dcfs_admin, dcfs_worker):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.post(f"/api/v1/users/{dcfs_worker.pk}/deactivate/")

    # then
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.is_active is False


@pytest.mark.parametrize("password", ["Qz7#kLm2$vX9", "Qz7#kLm2$vX", "password1234"])
def test_password_on_create_is_refused_and_never_echoed(dcfs_admin, password):
    # SPEC §1: admins never set another user's password — strong or weak, it is refused and the
    # new user is emailed an invitation link instead (this test once pinned the validators).
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.post("/api/v1/users/", _user_body("newbie", role=Role.CASE_WORKER, password=password))

    # then
    assert response.status_code == 400
    assert "link" in response.json()["detail"]
    assert response.json()["errors"]["password"]
    assert password not in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_password_on_update_is_refused(dcfs_admin, dcfs_worker):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.patch(f"/api/v1/users/{dcfs_worker.pk}/", {"password": "short"})

    # then
    assert response.status_code == 400
    assert response.json()["errors"]["password"]


def test_duplicate_username_is_a_field_error(dcfs_admin, dcfs_worker):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = client.post("/api/v1/users/", _user_body("DCFS_WORKER", role=Role.CASE_WORKER))

    # then
    assert response.status_code == 400
    assert "username" in response.json()["errors"]


@pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.MDT_MEMBER, Role.AUDITOR])
def test_non_admin_roles_cannot_manage_users(agencies, role):
    # given
    UserFactory(username="someone", agency=agencies["DCFS"], role=role)
    client = api_login("someone")

    # when
    listed = client.get("/api/v1/users/")
    created = client.post("/api/v1/users/", _user_body("x1", role=Role.CASE_WORKER))

    # then
    assert listed.status_code == 403
    assert created.status_code == 403


def test_supervisor_reads_own_agency_users_but_cannot_change_them(agencies, dcfs_worker):
    # given
    UserFactory(username="dcfs_sup", agency=agencies["DCFS"], role=Role.SUPERVISOR)
    client = api_login("dcfs_sup")

    # when
    listed = client.get("/api/v1/users/")
    created = client.post("/api/v1/users/", _user_body("x2", role=Role.CASE_WORKER))
    patched = client.patch(f"/api/v1/users/{dcfs_worker.pk}/", {"first_name": "Nope"})
    deactivated = client.post(f"/api/v1/users/{dcfs_worker.pk}/deactivate/")

    # then
    assert listed.status_code == 200
    assert created.status_code == 403
    assert patched.status_code == 403
    assert deactivated.status_code == 403


def test_every_user_change_writes_an_audit_event(dcfs_admin):
    # given
    client = api_login(dcfs_admin.username)

    # when
    created = client.post("/api/v1/users/", _user_body("audited", role=Role.CASE_WORKER))
    user_id = created.json()["id"]
    client.patch(f"/api/v1/users/{user_id}/", {"role": Role.SUPERVISOR})
    client.post(f"/api/v1/users/{user_id}/deactivate/")

    # then
    events = AuditEvent.objects.filter(object_type="user", object_id=str(user_id)).order_by("id")
    assert [(e.action, e.actor_id, e.actor_agency) for e in events] == [
        (AuditEvent.Action.CREATE, dcfs_admin.pk, "DCFS"),
        (AuditEvent.Action.UPDATE, dcfs_admin.pk, "DCFS"),
        (AuditEvent.Action.ACCESS_CHANGE, dcfs_admin.pk, "DCFS"),
    ]
    assert events[1].detail == {"fields": ["role"]}
    assert all(e.request_id for e in events)
    # Nothing identifying beyond ids: the name and e-mail never reach the log.
    assert all("Pat" not in str(e.detail) and "example.invalid" not in str(e.detail) for e in events)


def test_me_describes_the_caller(dcfs_worker):
    # given
    client = api_login(dcfs_worker.username)

    # when
    response = client.get("/api/v1/me/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == dcfs_worker.pk
    assert body["username"] == "dcfs_worker"
    assert body["name"] == dcfs_worker.get_full_name()
    assert body["agency"] == "DCFS"
    assert body["role"] == Role.CASE_WORKER


@pytest.mark.parametrize(
    ("method", "suffix", "body"), [("post", "deactivate/", None), ("patch", "", {"is_active": False})]
)
def test_an_admin_cannot_deactivate_themselves(dcfs_admin, method, suffix, body):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = getattr(client, method)(f"/api/v1/users/{dcfs_admin.pk}/{suffix}", body)

    # then: 403 with the reason (SPEC §1 separation of duties; this was a 409 before)
    assert response.status_code == 403
    assert "your own" in response.json()["detail"]
    dcfs_admin.refresh_from_db()
    assert dcfs_admin.is_active


def test_a_stale_if_match_is_412_and_changes_nothing(dcfs_admin, dcfs_worker):
    with time_machine.travel(datetime(2026, 3, 2, 16, 0, tzinfo=UTC), tick=False) as traveller:
        # given
        client = api_login(dcfs_admin.username)
        etag = client.get(f"/api/v1/users/{dcfs_worker.pk}/")["ETag"]
        traveller.shift(timedelta(seconds=5))
        services.user_update(actor=dcfs_admin, user=dcfs_worker, data={"first_name": "Someone else"})

        # when
        response = client.patch(f"/api/v1/users/{dcfs_worker.pk}/", {"last_name": "Mine"}, HTTP_IF_MATCH=etag)
        after_stale = User.objects.get(pk=dcfs_worker.pk).last_name
        fresh = client.patch(
            f"/api/v1/users/{dcfs_worker.pk}/",
            {"last_name": "Mine"},
            HTTP_IF_MATCH=client.get(f"/api/v1/users/{dcfs_worker.pk}/")["ETag"],
        )

    # then
    assert response.status_code == 412
    assert after_stale != "Mine"
    assert fresh.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/users/?page=abc", None),
        ("get", "/api/v1/users/?page=0", None),
        ("get", "/api/v1/users/?page=99999", None),
        ("get", "/api/v1/users/?page_size=-5", None),
        ("get", "/api/v1/users/99999999999999999999/", None),
        ("post", "/api/v1/users/", {"username": "x" * 151, "email": "a@example.invalid", "role": "case_worker"}),
        ("post", "/api/v1/users/", {"username": "ok", "email": "a@example.invalid", "role": "wizard"}),
        (
            "post",
            "/api/v1/users/",
            {"username": "ok", "email": "a@example.invalid", "role": "case_worker", "agency": "NOPE"},
        ),
        (
            "post",
            "/api/v1/users/",
            {"username": "ok", "email": "a@example.invalid", "role": "case_worker", "agency": 5},
        ),
        ("post", "/api/v1/users/", {"username": ["ok"], "email": {"a": 1}, "role": None}),
        ("post", "/api/v1/users/", {"username": "ok\x00", "email": "a@example.invalid", "role": "case_worker"}),
        (
            "post",
            "/api/v1/users/",
            {"username": "ok", "email": "a@example.invalid", "role": "case_worker", "password": "p" * 300},
        ),
        ("patch", "/api/v1/users/{worker}/", {"is_active": "perhaps"}),
        ("patch", "/api/v1/users/{worker}/", {"agency": None}),
        ("patch", "/api/v1/users/{worker}/", {"email": ""}),
    ],
)
def test_bad_input_never_answers_500(dcfs_admin, dcfs_worker, method, path, body):
    # given
    client = api_login(dcfs_admin.username)

    # when
    response = getattr(client, method)(path.format(worker=dcfs_worker.pk), body)

    # then: a client error, or (page_size=-5) the default page
    assert response.status_code < 500, response.content
    assert response.status_code >= 400 or "page_size" in path
    assert "Traceback" not in response.content.decode()


def test_a_create_that_loses_a_race_for_the_username_is_409_and_names_no_value(dcfs_admin):
    # given another request created "dcfs_twin" between this one's check and its insert
    from unittest import mock

    from accounts import services as account_services

    client = api_login(dcfs_admin.username)
    assert client.post("/api/v1/users/", _user_body("dcfs_twin", role=Role.CASE_WORKER)).status_code == 201
    real_filter = account_services.User.objects.filter

    def check_misses_the_twin(*args, **kwargs):  # type: ignore[no-untyped-def]
        if "username__iexact" in kwargs:  # the service's availability check runs before the race
            return account_services.User.objects.none()
        return real_filter(*args, **kwargs)

    # when the same username is created again
    with mock.patch.object(account_services.User.objects, "filter", side_effect=check_misses_the_twin):
        response = client.post("/api/v1/users/", _user_body("dcfs_twin", role=Role.CASE_WORKER))

    # then a conflict, nothing created, and the database's message (which quotes the value) withheld
    assert response.status_code == 409, response.content
    assert "dcfs_twin" not in response.content.decode()
    assert User.objects.filter(username="dcfs_twin").count() == 1
