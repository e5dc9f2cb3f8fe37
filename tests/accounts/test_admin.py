"""Agency access management in the Django admin follows the same rules as the API."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from knox.models import AuthToken

from accounts import services
from accounts.models import User
from audit.models import AuditEvent
from core.permissions import Role
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Copper-Meadow-Signal-91"
USERS = "/admin/accounts/user/"


@pytest.fixture
def admin_browser(dcfs_admin) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(dcfs_admin)
    return browser


def _add_form(**overrides: object) -> dict:
    return {
        "username": "added",
        "email": "added@example.invalid",
        "first_name": "Ada",
        "last_name": "Example",
        "role": Role.CASE_WORKER,
        **overrides,
    }


def test_changelist_shows_only_own_agency(admin_browser, dcfs_worker, probation_worker):
    # when
    response = admin_browser.get(USERS)

    # then
    assert response.status_code == 200
    shown = {user.username for user in response.context["cl"].result_list}
    assert shown == {"dcfs_admin", "dcfs_worker"}


def test_change_page_of_another_agency_user_is_not_reachable(admin_browser, probation_worker):
    # when
    response = admin_browser.get(f"{USERS}{probation_worker.pk}/change/")

    # then: the admin's "does not exist" answer (404 or a redirect to the index)
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"] == "/admin/"


def test_changing_another_agency_user_by_post_changes_nothing(admin_browser, agencies, probation_worker):
    # when
    response = admin_browser.post(
        f"{USERS}{probation_worker.pk}/change/",
        {
            "email": "x@example.invalid",
            "first_name": "X",
            "last_name": "Y",
            "agency": agencies["DCFS"].pk,
            "role": Role.CASE_WORKER,
            "is_active": "on",
        },
    )

    # then
    assert response.status_code in (302, 403, 404)
    probation_worker.refresh_from_db()
    assert (probation_worker.first_name, probation_worker.agency.code) == ("Test", "PROBATION")


@pytest.mark.parametrize("page", ["password/", "history/"])
def test_other_agency_user_subpages_are_not_reachable(admin_browser, probation_worker, page):
    # when
    response = admin_browser.get(f"{USERS}{probation_worker.pk}/{page}")

    # then
    assert response.status_code in (302, 404)


def test_role_choices_exclude_system_admin_and_auditor(admin_browser):
    # when
    response = admin_browser.get(f"{USERS}add/")

    # then
    assert response.status_code == 200
    choices = {value for value, _ in response.context["adminform"].form.fields["role"].choices}
    assert choices == {Role.CASE_WORKER, Role.SUPERVISOR, Role.MDT_MEMBER, Role.AGENCY_ADMIN}
    agencies_offered = list(response.context["adminform"].form.fields["agency"].queryset.values_list("code", flat=True))
    assert agencies_offered == ["DCFS"]


def test_agency_admin_adds_a_case_worker_of_own_agency(admin_browser, agencies):
    # when
    response = admin_browser.post(f"{USERS}add/", _add_form(agency=agencies["DCFS"].pk))

    # then
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    added = User.objects.get(username="added")
    # No password is chosen in the admin: the new user is invited by email (SPEC §1).
    assert (added.agency.code, added.role, added.has_usable_password()) == ("DCFS", Role.CASE_WORKER, False)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_type="user", object_id=str(added.pk)
    ).exists()


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.AUDITOR])
def test_posting_an_admin_only_role_is_refused(admin_browser, agencies, role):
    # when
    response = admin_browser.post(f"{USERS}add/", _add_form(agency=agencies["DCFS"].pk, role=role))

    # then
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert "role" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="added").exists()


def test_promoting_to_system_admin_on_the_change_page_is_refused(admin_browser, agencies, dcfs_worker):
    # when
    response = admin_browser.post(
        f"{USERS}{dcfs_worker.pk}/change/",
        {
            "email": dcfs_worker.email,
            "first_name": "Test",
            "last_name": "Worker",
            "agency": agencies["DCFS"].pk,
            "role": Role.SYSTEM_ADMIN,
            "is_active": "on",
        },
    )

    # then
    assert response.status_code in (200, 403)
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.role == Role.CASE_WORKER
    assert not dcfs_worker.is_staff


def test_adding_a_user_of_another_agency_is_refused(admin_browser, agencies):
    # when
    response = admin_browser.post(f"{USERS}add/", _add_form(agency=agencies["PROBATION"].pk))

    # then
    assert response.status_code in (200, 403)
    assert not User.objects.filter(username="added").exists()


def test_a_password_posted_to_the_add_form_is_ignored(admin_browser, agencies, django_capture_on_commit_callbacks):
    # SPEC §1: the add form has no password field (this test once pinned its validators); a
    # forged one sets nothing, and the invitation is emailed.
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"{USERS}add/", _add_form(agency=agencies["DCFS"].pk, password=STRONG_PASSWORD))

    # then
    assert response.status_code == 302
    added = User.objects.get(username="added")
    assert not added.check_password(STRONG_PASSWORD) and not added.has_usable_password()
    assert [m.to for m in mail.outbox] == [[added.email]]


def test_agency_admin_changes_own_agency_user_through_the_service(admin_browser, agencies, dcfs_worker):
    # when
    response = admin_browser.post(
        f"{USERS}{dcfs_worker.pk}/change/",
        {
            "email": dcfs_worker.email,
            "first_name": "Renamed",
            "last_name": dcfs_worker.last_name,
            "agency": agencies["DCFS"].pk,
            "role": Role.SUPERVISOR,
            "is_active": "on",
        },
    )

    # then
    assert response.status_code == 302
    dcfs_worker.refresh_from_db()
    assert (dcfs_worker.first_name, dcfs_worker.role) == ("Renamed", Role.SUPERVISOR)
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_type="user", object_id=str(dcfs_worker.pk))
    assert event.detail == {"fields": ["first_name", "role"]}


def test_deactivate_action_ends_the_users_access(admin_browser, make_client, dcfs_worker):
    # given
    client = make_client(dcfs_worker)

    # when: the action asks first, and nothing changes until it is confirmed
    asked = admin_browser.post(USERS, {"action": "deactivate_selected", "_selected_action": [dcfs_worker.pk]})
    assert asked.status_code == 200 and b"Yes, deactivate" in asked.content
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.is_active is True
    response = admin_browser.post(
        USERS, {"action": "deactivate_selected", "_selected_action": [dcfs_worker.pk], "post": "yes"}
    )

    # then
    assert response.status_code == 302
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.is_active is False
    assert not AuthToken.objects.filter(user=dcfs_worker).exists()
    assert client.get("/api/v1/me/").status_code == 401
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_CHANGE, object_type="user", object_id=str(dcfs_worker.pk)
    ).exists()


def test_deactivate_action_cannot_reach_a_system_admin_of_own_agency(admin_browser, agencies):
    # given
    sysadmin_at_dcfs = UserFactory(username="sys_dcfs", agency=agencies["DCFS"], role=Role.SYSTEM_ADMIN)

    # when
    admin_browser.post(
        USERS, {"action": "deactivate_selected", "_selected_action": [sysadmin_at_dcfs.pk], "post": "yes"}
    )

    # then
    sysadmin_at_dcfs.refresh_from_db()
    assert sysadmin_at_dcfs.is_active


def test_agency_admin_cannot_set_the_password_of_a_system_admin(admin_browser, agencies):
    # given: a system admin who happens to belong to the agency admin's agency
    sysadmin_at_dcfs = UserFactory(username="sys_dcfs", agency=agencies["DCFS"], role=Role.SYSTEM_ADMIN)

    # when
    response = admin_browser.post(
        f"{USERS}{sysadmin_at_dcfs.pk}/password/",
        {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "usable_password": "true"},
    )

    # then
    assert response.status_code in (403, 404)
    sysadmin_at_dcfs.refresh_from_db()
    assert not sysadmin_at_dcfs.check_password(STRONG_PASSWORD)


def test_a_system_admin_of_own_agency_is_shown_read_only(admin_browser, agencies):
    # given
    sysadmin_at_dcfs = UserFactory(username="sys_dcfs", agency=agencies["DCFS"], role=Role.SYSTEM_ADMIN)

    # when
    response = admin_browser.get(f"{USERS}{sysadmin_at_dcfs.pk}/change/")

    # then
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_the_admin_password_page_is_refused_and_a_link_is_sent_instead(
    admin_browser, dcfs_worker, django_capture_on_commit_callbacks
):
    # SPEC §1: admins never set a password (this test once pinned Django's password page).
    # when
    refused = admin_browser.post(
        f"{USERS}{dcfs_worker.pk}/password/",
        {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "usable_password": "true"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = admin_browser.post(
            USERS, {"action": "send_password_link_selected", "_selected_action": [dcfs_worker.pk]}
        )

    # then
    assert refused.status_code == 403
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.check_password(TEST_PASSWORD)
    assert sent.status_code == 302
    assert [m.to for m in mail.outbox] == [[dcfs_worker.email]]
    assert "/accounts/set-password/" in mail.outbox[0].body
    event = AuditEvent.objects.get(object_type="user", object_id=str(dcfs_worker.pk))
    assert (event.action, event.actor_id, event.detail) == (
        AuditEvent.Action.UPDATE,
        admin_browser.session["_auth_user_id"] and int(admin_browser.session["_auth_user_id"]),
        {"step": "password_link_sent"},
    )


def test_agency_admin_cannot_reach_the_agency_model(admin_browser, agencies):
    # when
    changelist = admin_browser.get("/admin/accounts/agency/")
    change = admin_browser.get(f"/admin/accounts/agency/{agencies['DCFS'].pk}/change/")
    add = admin_browser.post("/admin/accounts/agency/add/", {"code": "EVIL", "name": "Evil", "kind": "other"})
    index = admin_browser.get("/admin/")

    # then
    assert changelist.status_code == 403
    assert change.status_code == 403
    assert add.status_code == 403
    assert index.status_code == 200
    assert "/admin/accounts/agency/" not in index.content.decode()


def test_system_admin_manages_agencies_and_every_agency_user(system_admin, dcfs_worker, probation_worker):
    # given
    browser = Client()
    browser.force_login(system_admin)

    # when
    agencies_page = browser.get("/admin/accounts/agency/")
    users_page = browser.get(USERS)

    # then
    assert agencies_page.status_code == 200
    shown = {user.username for user in users_page.context["cl"].result_list}
    assert {"dcfs_worker", "probation_worker", "root"} <= shown


def test_a_case_worker_cannot_enter_the_admin(dcfs_worker):
    # given
    browser = Client()
    browser.force_login(dcfs_worker)

    # when
    index = browser.get("/admin/")
    users = browser.get(USERS)

    # then: sent to the login page, never shown the admin
    assert index.status_code == 302
    assert index["Location"].startswith("/admin/login/")
    assert users.status_code == 302


def test_a_case_worker_cannot_log_in_to_the_admin(dcfs_worker):
    # when
    response = Client().post("/admin/login/", {"username": "dcfs_worker", "password": TEST_PASSWORD})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in Client().session


def test_admin_login_and_logout_are_audited(dcfs_admin):
    # given
    browser = Client()

    # when
    logged_in = browser.post("/admin/login/", {"username": "dcfs_admin", "password": TEST_PASSWORD, "next": "/admin/"})
    browser.post("/admin/logout/")

    # then
    assert logged_in.status_code == 302
    actions = list(
        AuditEvent.objects.filter(object_type="user", object_id=str(dcfs_admin.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [AuditEvent.Action.LOGIN, AuditEvent.Action.LOGOUT]


def test_deactivating_an_agency_admin_ends_their_admin_session(system_admin, dcfs_admin):
    # given
    browser = Client()
    browser.force_login(dcfs_admin)
    assert browser.get("/admin/").status_code == 200

    # when
    services.user_deactivate(actor=system_admin, user=dcfs_admin)

    # then
    response = browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_username_taken_in_another_case_is_a_form_error(admin_browser, agencies, dcfs_worker):
    # when
    response = admin_browser.post(f"{USERS}add/", _add_form(agency=agencies["DCFS"].pk, username="DCFS_Worker"))

    # then
    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    assert User.objects.filter(username__iexact="dcfs_worker").count() == 1
