"""The admin's user change page shows a user's access (invitation, password, MFA) and offers the
two access buttons, under the same rules as the API; unticking "active" is confirmed first."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts import services
from accounts.models import User
from audit.models import AuditEvent
from core.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def _browser(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def admin_browser(dcfs_admin) -> Client:  # type: ignore[no-untyped-def]
    return _browser(dcfs_admin)


def _enrol(user: User) -> None:
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    StaticToken.objects.bulk_create([StaticToken(device=static, token=f"code{n}") for n in range(3)])


def _change_form(user: User, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "agency": user.agency_id,
        "role": user.role,
        "is_active": "on",
        "_save": "Save",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def _events(user: User, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="user", object_id=str(user.pk), **filters))


# --- what the page shows -------------------------------------------------------------------------


def test_a_new_users_page_shows_the_invitation_sent_and_unused(
    admin_browser, dcfs_admin, agencies, django_capture_on_commit_callbacks
):
    # given: a user added by the admin, who has not used the invitation yet
    with django_capture_on_commit_callbacks(execute=True):
        invited = services.user_create(
            actor=dcfs_admin,
            username="invited",
            email="invited@example.invalid",
            agency=agencies["DCFS"],
            role=Role.CASE_WORKER,
        )

    # when
    response = admin_browser.get(f"{USERS}{invited.pk}/change/")

    # then
    assert response.status_code == 200
    status = response.context["access_status"]
    assert status["link_kind"] == "Invitation sent when the account was created"
    assert status["link_sent_at"] is not None
    assert status["link_used_at"] is None
    assert status["password_usable"] is False
    assert status["mfa_devices"] == []
    page = response.content.decode()
    assert "not used yet" in page
    assert "Resend invitation" in page
    assert "Reset MFA" not in page  # nothing to reset
    assert "/accounts/set-password/" not in page  # the admin never sees the link


def test_the_page_shows_the_invitation_used_once_the_user_chose_a_password(admin_browser, dcfs_admin, agencies):
    # given
    invited = services.user_create(
        actor=dcfs_admin,
        username="invited",
        email="invited@example.invalid",
        agency=agencies["DCFS"],
        role=Role.CASE_WORKER,
    )
    services.user_password_set(user=invited, password="Copper-Meadow-Signal-91")

    # when
    response = admin_browser.get(f"{USERS}{invited.pk}/change/")

    # then
    status = response.context["access_status"]
    assert status["link_used_at"] is not None
    assert status["password_usable"] is True
    assert "Send a set-password link" in response.content.decode()


def test_the_page_shows_enrolled_mfa_devices_without_secrets(admin_browser, dcfs_worker):
    # given
    _enrol(dcfs_worker)
    key = TOTPDevice.objects.get(user=dcfs_worker).key

    # when
    response = admin_browser.get(f"{USERS}{dcfs_worker.pk}/change/")

    # then
    status = response.context["access_status"]
    assert status["mfa_devices"] == ["authenticator"]
    assert status["mfa_recovery_codes_left"] == 3
    page = response.content.decode()
    assert "enrolled (authenticator); 3 recovery codes left" in page
    assert "Reset MFA" in page
    assert key not in page
    assert "code0" not in page


# --- resend invitation ---------------------------------------------------------------------------


def test_resend_invitation_emails_a_link_and_is_audited(
    admin_browser, dcfs_admin, dcfs_worker, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"{USERS}{dcfs_worker.pk}/send-password-link/")

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{USERS}{dcfs_worker.pk}/change/"
    assert [m.to for m in mail.outbox] == [[dcfs_worker.email]]
    [event] = _events(dcfs_worker, action=AuditEvent.Action.UPDATE)
    assert (event.actor_id, event.detail) == (dcfs_admin.pk, {"step": "password_link_sent"})
    status = admin_browser.get(f"{USERS}{dcfs_worker.pk}/change/").context["access_status"]
    assert status["link_kind"] == "Set-password link sent by an admin"


def test_resend_invitation_is_post_only(admin_browser, dcfs_worker):
    # when
    response = admin_browser.get(f"{USERS}{dcfs_worker.pk}/send-password-link/")

    # then
    assert response.status_code == 405
    assert _events(dcfs_worker) == []


def test_resend_invitation_needs_the_csrf_token(dcfs_admin, dcfs_worker):
    # given
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(dcfs_admin)

    # when
    response = browser.post(f"{USERS}{dcfs_worker.pk}/send-password-link/")

    # then
    assert response.status_code == 403
    assert _events(dcfs_worker) == []


def test_resend_invitation_for_another_agencys_user_is_not_found(
    admin_browser, probation_worker, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"{USERS}{probation_worker.pk}/send-password-link/")

    # then
    assert response.status_code == 404
    assert mail.outbox == []
    assert _events(probation_worker) == []


def test_resend_invitation_to_a_system_admin_of_own_agency_is_refused(admin_browser, agencies):
    # given
    sysadmin_at_dcfs = UserFactory(username="sys_dcfs", agency=agencies["DCFS"], role=Role.SYSTEM_ADMIN)

    # when
    response = admin_browser.post(f"{USERS}{sysadmin_at_dcfs.pk}/send-password-link/")

    # then
    assert response.status_code == 403
    assert _events(sysadmin_at_dcfs) == []


def test_resend_invitation_to_a_deactivated_user_says_why(admin_browser, dcfs_worker):
    # given
    User.objects.filter(pk=dcfs_worker.pk).update(is_active=False)

    # when
    response = admin_browser.post(f"{USERS}{dcfs_worker.pk}/send-password-link/", follow=True)

    # then
    assert "That account is deactivated; reactivate it first." in [str(m) for m in response.context["messages"]]
    assert _events(dcfs_worker) == []


def test_a_system_admin_resends_to_any_agencys_user(system_admin, probation_worker, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _browser(system_admin).post(f"{USERS}{probation_worker.pk}/send-password-link/")

    # then
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[probation_worker.email]]


# --- reset MFA -----------------------------------------------------------------------------------


def test_reset_mfa_removes_the_devices_ends_access_and_is_audited(admin_browser, dcfs_admin, dcfs_worker, make_client):
    # given
    _enrol(dcfs_worker)
    client = make_client(dcfs_worker)

    # when
    response = admin_browser.post(f"{USERS}{dcfs_worker.pk}/reset-mfa/")

    # then
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=dcfs_worker).exists()
    assert not StaticDevice.objects.filter(user=dcfs_worker).exists()
    assert not AuthToken.objects.filter(user=dcfs_worker).exists()
    assert client.get("/api/v1/me/").status_code == 401
    [event] = _events(dcfs_worker, action=AuditEvent.Action.MFA_CHANGE)
    assert (event.actor_id, event.detail) == (dcfs_admin.pk, {"step": "reset"})


def test_reset_mfa_is_post_only(admin_browser, dcfs_worker):
    # given
    _enrol(dcfs_worker)

    # when
    response = admin_browser.get(f"{USERS}{dcfs_worker.pk}/reset-mfa/")

    # then
    assert response.status_code == 405
    assert TOTPDevice.objects.filter(user=dcfs_worker).exists()


def test_reset_mfa_of_another_agencys_user_is_not_found(admin_browser, probation_worker):
    # given
    _enrol(probation_worker)

    # when
    response = admin_browser.post(f"{USERS}{probation_worker.pk}/reset-mfa/")

    # then
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=probation_worker).exists()


def test_reset_mfa_of_a_system_admin_of_own_agency_is_refused(admin_browser, agencies):
    # given
    sysadmin_at_dcfs = UserFactory(username="sys_dcfs", agency=agencies["DCFS"], role=Role.SYSTEM_ADMIN)
    _enrol(sysadmin_at_dcfs)

    # when
    response = admin_browser.post(f"{USERS}{sysadmin_at_dcfs.pk}/reset-mfa/")
    page = admin_browser.get(f"{USERS}{sysadmin_at_dcfs.pk}/change/").content.decode()

    # then
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=sysadmin_at_dcfs).exists()
    assert "Reset MFA" not in page  # shown read-only, without the buttons


def test_a_case_worker_cannot_reset_mfa(dcfs_worker, agencies):
    # given
    other = UserFactory(username="other", agency=agencies["DCFS"], role=Role.CASE_WORKER)
    _enrol(other)

    # when
    response = _browser(dcfs_worker).post(f"{USERS}{other.pk}/reset-mfa/")

    # then: the admin site sends them to its login page
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert TOTPDevice.objects.filter(user=other).exists()


def test_a_system_admin_resets_any_agencys_users_mfa(system_admin, probation_worker):
    # given
    _enrol(probation_worker)

    # when
    response = _browser(system_admin).post(f"{USERS}{probation_worker.pk}/reset-mfa/")

    # then
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=probation_worker).exists()


# --- deactivation is confirmed -------------------------------------------------------------------


def test_unticking_active_asks_for_confirmation_first(admin_browser, dcfs_worker):
    # when
    response = admin_browser.post(f"{USERS}{dcfs_worker.pk}/change/", _change_form(dcfs_worker, is_active=None))

    # then: nothing changed yet; the confirmation page carries the form back
    assert response.status_code == 200
    assert "Deactivate this user?" in response.content.decode()
    assert ("first_name", "Test") in response.context["posted"]
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.is_active is True
    assert _events(dcfs_worker) == []


def test_confirming_deactivates_through_the_service(admin_browser, dcfs_worker, make_client):
    # given
    client = make_client(dcfs_worker)

    # when
    response = admin_browser.post(
        f"{USERS}{dcfs_worker.pk}/change/",
        _change_form(dcfs_worker, is_active=None, _deactivation_confirmed="yes"),
    )

    # then
    assert response.status_code == 302
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.is_active is False
    assert client.get("/api/v1/me/").status_code == 401
    [event] = _events(dcfs_worker, action=AuditEvent.Action.UPDATE)
    assert event.detail == {"fields": ["is_active"]}


def test_other_changes_are_saved_without_confirmation(admin_browser, dcfs_worker):
    # when
    response = admin_browser.post(f"{USERS}{dcfs_worker.pk}/change/", _change_form(dcfs_worker, first_name="Renamed"))

    # then
    assert response.status_code == 302
    dcfs_worker.refresh_from_db()
    assert (dcfs_worker.first_name, dcfs_worker.is_active) == ("Renamed", True)


def test_reactivating_needs_no_confirmation(admin_browser, dcfs_worker):
    # given
    User.objects.filter(pk=dcfs_worker.pk).update(is_active=False)
    dcfs_worker.refresh_from_db()

    # when
    response = admin_browser.post(f"{USERS}{dcfs_worker.pk}/change/", _change_form(dcfs_worker, is_active="on"))

    # then
    assert response.status_code == 302
    dcfs_worker.refresh_from_db()
    assert dcfs_worker.is_active is True


def test_no_confirmation_page_for_a_user_the_admin_cannot_change(admin_browser, probation_worker):
    # when
    response = admin_browser.post(
        f"{USERS}{probation_worker.pk}/change/", _change_form(probation_worker, is_active=None)
    )

    # then: the admin's usual "not found" answer, no page naming the user
    assert response.status_code in (302, 404)
    probation_worker.refresh_from_db()
    assert probation_worker.is_active is True
