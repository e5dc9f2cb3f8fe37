"""Sign-in and sign-out with sessions (issue 15 §"Sessions, not tokens"): the API's lockout,
the MFA code for the roles that need it, one answer for every wrong part, CSRF, the strict CSP,
and sign-out ending the session."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client

from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _csrf(client: Client, path: str = "/app/sign-in/") -> str:
    page = client.get(path)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def _sign_in(client: Client, username: str, password: str = TEST_PASSWORD, otp: str = "", next_: str = ""):  # type: ignore[no-untyped-def]
    token = _csrf(client)
    data = {"csrfmiddlewaretoken": token, "username": username, "password": password, "otp": otp}
    if next_:
        data["next"] = next_
    return client.post("/app/sign-in/", data)


def test_root_sends_a_stranger_to_sign_in_and_a_signed_in_person_home(people, web):
    assert Client().get("/")["Location"] == "/app/sign-in/"
    assert web(people.dcfs_case_worker).get("/")["Location"] == "/app/"


def test_a_page_asked_for_without_a_session_signs_in_first_and_lands_there(people):
    # given a link to a page, opened in a browser with no session
    browser = Client(enforce_csrf_checks=True)
    opened = browser.get("/app/preferences/")
    assert opened.status_code == 302
    assert opened["Location"] == "/app/sign-in/?next=%2Fapp%2Fpreferences%2F"

    # when the person signs in from there
    signed_in = _sign_in(browser, "dcfs_case_worker", next_="/app/preferences/")

    # then they land on the page they asked for, in a session (not a token)
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/app/preferences/"
    assert Session.objects.count() == 1
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).latest("id")
    assert (event.actor_id, event.detail) == (people.dcfs_case_worker.pk, {"via": "web"})


def test_next_never_leaves_the_web_app(people):
    browser = Client()
    assert _sign_in(browser, "dcfs_case_worker", next_="https://evil.example/")["Location"] == "/app/"
    browser = Client()
    assert _sign_in(browser, "dcfs_case_worker", next_="//evil.example/app/")["Location"] == "/app/"


def test_a_wrong_password_is_one_message_and_five_lock_the_account_out(people):
    browser = Client()
    for _ in range(4):
        wrong = _sign_in(browser, "dcfs_case_worker", password="not-the-password")
        assert wrong.status_code == 400
        assert "That user name, password or code is not right" in wrong.content.decode()
    fifth = _sign_in(browser, "dcfs_case_worker", password="not-the-password")

    # then the lockout is the API's (axes, per username), answered in the web's look
    assert fifth.status_code == 429
    assert "text/html" in fifth["Content-Type"]
    assert "Too many failed attempts" in fifth.content.decode()
    assert AccessAttempt.objects.filter(username="dcfs_case_worker").exists()
    # and even the right password is refused while it lasts
    assert _sign_in(Client(), "dcfs_case_worker").status_code == 429
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOCKOUT).exists()


def test_the_form_refuses_a_post_without_its_csrf_token(people):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/app/sign-in/", {"username": "dcfs_case_worker", "password": TEST_PASSWORD})
    assert refused.status_code == 403
    assert Session.objects.count() == 0


@pytest.mark.parametrize("otp", ["", "000000"])
def test_an_enrolled_user_needs_their_code_and_a_wrong_one_answers_like_a_wrong_password(agencies, settings, otp):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.HARBOR_MFA_ENFORCED = True
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role="agency_admin")
    TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)

    refused = _sign_in(Client(), "dcfs_admin", otp=otp)

    assert refused.status_code == 400
    assert "That user name, password or code is not right" in refused.content.decode()
    assert AccessAttempt.objects.get(username="dcfs_admin").failures_since_start == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, detail={"reason": "otp"}).exists()


def test_an_enrolled_user_signs_in_with_a_current_code(agencies, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.HARBOR_MFA_ENFORCED = True
    admin = UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role="agency_admin")
    device = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"

    assert _sign_in(Client(), "dcfs_admin", otp=code)["Location"] == "/app/"


def test_a_role_that_must_use_mfa_but_has_not_enrolled_reaches_only_enrolment(agencies, settings):
    settings.HARBOR_MFA_ENFORCED = True
    UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role="agency_admin")
    browser = Client()

    assert _sign_in(browser, "dcfs_admin")["Location"] == "/app/"
    assert browser.get("/app/")["Location"] == "/app/setup/mfa/"
    assert browser.get("/app/preferences/")["Location"] == "/app/setup/mfa/"


def test_sign_out_ends_the_session(people):
    browser = Client()
    _sign_in(browser, "dcfs_case_worker")
    key = browser.session.session_key
    token = _csrf(browser, "/app/")

    out = browser.post("/app/sign-out/", {"csrfmiddlewaretoken": token})

    assert out["Location"] == "/app/signed-out/"
    assert not Session.objects.filter(session_key=key).exists()
    assert browser.get("/app/")["Location"].startswith("/app/sign-in/")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT).latest("id")
    assert event.detail == {"via": "web"}


def test_sign_out_is_a_post(people, web):
    assert web(people.dcfs_case_worker).get("/app/sign-out/").status_code == 405


def test_the_session_ends_after_30_minutes_idle(people, time_machine):
    browser = Client()
    time_machine.move_to("2026-12-01T09:00:00-08:00", tick=False)
    _sign_in(browser, "dcfs_case_worker")
    assert browser.get("/app/").status_code == 200

    time_machine.move_to("2026-12-01T09:31:00-08:00", tick=False)

    assert browser.get("/app/")["Location"].startswith("/app/sign-in/")
    # and the audit log says which door the ended session was, and why it ended
    ended = AuditEvent.objects.filter(action="logout", actor_id=people.dcfs_case_worker.pk).latest("id")
    assert ended.detail == {"via": "web", "reason": "idle"}


def test_pages_carry_the_strict_csp_and_are_never_cached(people, web):
    page = web(people.dcfs_case_worker).get("/app/")
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert "cdn" not in html.lower()


def test_an_unknown_page_and_a_hidden_object_get_the_same_404_page(people, web):
    unknown = web(people.dcfs_case_worker).get("/app/no-such-page/")
    assert unknown.status_code == 404
    assert "text/html" in unknown["Content-Type"]
    assert "Page not found" in unknown.content.decode()
