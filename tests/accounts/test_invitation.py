"""A user created without a password gets an invitation email whose link sets a password once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from core.permissions import Role
from tests.accounts.conftest import api_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Granite-Harbor-Willow-73"


def _invite(client, django_capture_on_commit_callbacks, username: str = "invitee") -> User:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/users/",
            {"username": username, "email": f"{username}@example.invalid", "role": Role.CASE_WORKER},
        )
    assert response.status_code == 201, response.content
    return User.objects.get(username=username)


def _link_path(message) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"https?://[^/\s]+(/accounts/set-password/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_user_created_without_password_gets_one_invitation_after_commit(dcfs_admin, django_capture_on_commit_callbacks):
    # given
    client = api_login(dcfs_admin.username)

    # when
    invitee = _invite(client, django_capture_on_commit_callbacks)

    # then
    assert not invitee.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["invitee@example.invalid"]
    # No identifying detail in the subject (SPEC: never in an email subject).
    assert message.subject == "Your Safe Harbor account"
    assert "/accounts/set-password/" in message.body


def test_no_invitation_when_the_transaction_rolls_back(dcfs_admin, dcfs_worker, django_capture_on_commit_callbacks):
    # given
    client = api_login(dcfs_admin.username)

    # when: the username is taken, so the create fails and nothing is committed
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            "/api/v1/users/", {"username": "dcfs_worker", "email": "dup@example.invalid", "role": Role.CASE_WORKER}
        )

    # then
    assert response.status_code == 400
    assert callbacks == []
    assert mail.outbox == []


def test_invitation_link_sets_the_password_once(dcfs_admin, django_capture_on_commit_callbacks):
    # given
    invitee = _invite(api_login(dcfs_admin.username), django_capture_on_commit_callbacks)
    path = _link_path(mail.outbox[0])
    browser = Client()

    # when: the link redirects to a token-free URL holding the token in the session
    opened = browser.get(path, follow=True)
    form_path = opened.redirect_chain[-1][0]
    submitted = browser.post(form_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    # then
    assert opened.status_code == 200
    assert opened.context["validlink"] is True
    assert submitted.status_code == 302
    # and the person goes on with the web app's first-time set-up, signed in (issue 15)
    assert submitted["Location"] == "/app/setup/"
    invitee.refresh_from_db()
    assert invitee.check_password(NEW_PASSWORD)
    assert api_login("invitee", NEW_PASSWORD).get("/api/v1/me/").status_code == 200
    set_event = AuditEvent.objects.get(object_type="user", object_id=str(invitee.pk), action=AuditEvent.Action.UPDATE)
    assert (set_event.actor_id, set_event.detail) == (invitee.pk, {"fields": ["password"], "via": "invitation"})

    # when: the same link is opened a second time
    again = Client().get(path, follow=True)

    # then: it no longer works
    assert again.context["validlink"] is False


def test_invitation_link_rejects_a_weak_password(dcfs_admin, django_capture_on_commit_callbacks):
    # given
    invitee = _invite(api_login(dcfs_admin.username), django_capture_on_commit_callbacks)
    browser = Client()
    opened = browser.get(_link_path(mail.outbox[0]), follow=True)
    form_path = opened.redirect_chain[-1][0]

    # when
    submitted = browser.post(form_path, {"new_password1": "password1234", "new_password2": "password1234"})

    # then
    assert submitted.status_code == 200
    assert submitted.context["form"].errors["new_password2"]
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()


def test_a_tampered_invitation_link_does_not_work(dcfs_admin, django_capture_on_commit_callbacks):
    # given
    _invite(api_login(dcfs_admin.username), django_capture_on_commit_callbacks)
    path = _link_path(mail.outbox[0])
    tampered = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]

    # when
    response = Client().get(tampered, follow=True)

    # then
    assert response.context["validlink"] is False


def test_an_invitation_link_expires_after_three_days(dcfs_admin, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 3, 2, 16, 0, tzinfo=UTC), tick=False) as traveller:
        # given
        _invite(api_login(dcfs_admin.username), django_capture_on_commit_callbacks)
        path = _link_path(mail.outbox[0])

        # when
        traveller.shift(timedelta(days=2, hours=23))
        before = Client().get(path, follow=True).context["validlink"]
        traveller.shift(timedelta(hours=1, minutes=1))
        after = Client().get(path, follow=True).context["validlink"]

    # then
    assert (before, after) == (True, False)


def test_the_invitation_email_names_no_one_but_the_user(dcfs_admin, django_capture_on_commit_callbacks):
    # when
    _invite(api_login(dcfs_admin.username), django_capture_on_commit_callbacks)

    # then: the admin who invited and their agency stay out of the message
    message = mail.outbox[0]
    assert "dcfs_admin" not in message.body
    assert "DCFS" not in message.body
    assert "invitee" in message.body
