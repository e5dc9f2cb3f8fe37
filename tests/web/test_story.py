"""The issue's whole story through the pages (Django test client; the browser test drives the
same story in Chromium): a DCFS worker logs a referral for a youth Probation already holds and
sees "held by PROBATION", a supervisor screens and accepts, the worker adds a note and records
a missing episode, the deadlines show on both homes — and a Probation worker sees none of it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Case, MissingEpisode, Note, Referral
from tests.cases.factories import create_youth

pytestmark = pytest.mark.django_db

JASMINE = {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": "2010-03-14"}


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _intake(**overrides):  # type: ignore[no-untyped-def]
    data = {
        **JASMINE,
        "aliases": "Jazzy",
        "receiving_agency": "DCFS",
        "received_at": _local(timezone.now() - dt.timedelta(hours=2)),
        "source": "school",
        "indicators": ["runaway_or_homeless", "online_solicitation"],
        "narrative": "Synthetic narrative for the web tests.",
        "hotline_reported_at": _local(timezone.now() - dt.timedelta(hours=1)),
    }
    data.update(overrides)
    return data


@pytest.fixture
def held_by_probation(people):  # type: ignore[no-untyped-def]
    """The same youth, already known to Probation (its record, no case)."""
    return create_youth(people.probation_supervisor)


def test_the_story(people, web, held_by_probation):
    worker, supervisor = people.dcfs_case_worker, people.dcfs_supervisor

    # the live duplicate check names the agency to ask, nothing of its record
    check = web(worker).get("/app/referrals/duplicates/", JASMINE)
    assert "A possible match is held by PROBATION" in check.content.decode()

    # the worker logs the referral
    logged = web(worker).post("/app/referrals/new/", _intake())
    assert logged.status_code == 302, logged.content.decode()[:3000]
    referral = Referral.objects.get(created_by=worker)
    assert logged["Location"] == f"/app/referrals/{referral.pk}/"
    page = web(worker).get(logged["Location"]).content.decode()
    assert "A possible match is held by PROBATION" in page
    assert f"Y-{held_by_probation.pk}" not in page

    # the supervisor sees it awaiting them, screens it (the suggested level offered) and accepts
    home = web(supervisor).get("/app/").content.decode()
    assert f"/app/referrals/{referral.pk}/" in home
    detail = web(supervisor).get(f"/app/referrals/{referral.pk}/").content.decode()
    assert "(suggested)" in detail
    screened = web(supervisor).post(
        f"/app/referrals/{referral.pk}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"}
    )
    assert screened.status_code == 302
    confirm = web(supervisor).get(f"/app/referrals/{referral.pk}/accept/")
    assert "Yes, accept the referral" in confirm.content.decode()
    accepted = web(supervisor).post(f"/app/referrals/{referral.pk}/accept/")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    case = referral.case
    assert accepted["Location"] == f"/app/cases/{case.pk}/"

    # the worker (on the team as the referring worker) adds a note and records a missing episode
    noted = web(worker).post(f"/app/cases/{case.pk}/notes/", {"visibility": "team", "body": "Met the youth."})
    assert noted.status_code == 302
    now = timezone.now()
    recorded = web(worker).post(
        f"/app/cases/{case.pk}/missing-episodes/",
        {
            "episode-missing_since": _local(now - dt.timedelta(hours=5)),
            "episode-learned_at": _local(now - dt.timedelta(hours=4)),
        },
    )
    assert recorded.status_code == 302, recorded.content.decode()[:2000]
    assert Note.objects.filter(case=case, author=worker, visibility="team").exists()
    assert MissingEpisode.objects.filter(case=case).exists()

    # the deadlines show on both homes, each linking to its case or referral
    for person in (worker, supervisor):
        home = web(person).get("/app/").content.decode()
        assert "Outstanding deadlines" in home
        assert f'href="/app/cases/{case.pk}/"' in home

    # and the case page shows it all to the worker
    page = web(worker).get(f"/app/cases/{case.pk}/").content.decode()
    assert "Met the youth." in page and "Still missing." in page


def test_a_note_needs_its_segment_chosen_and_clinical_is_dmh_only(people, web):
    from tests.cases.factories import open_case

    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    worker = people.dcfs_case_worker

    unchosen = web(worker).post(f"/app/cases/{case.pk}/notes/", {"body": "No segment chosen."})
    assert unchosen.status_code == 400
    assert 'id="error-summary"' in unchosen.content.decode()
    assert "Clinical —" not in web(worker).get(f"/app/cases/{case.pk}/").content.decode()
    # a clinical note sent anyway is refused by the service, as on the API
    refused = web(worker).post(f"/app/cases/{case.pk}/notes/", {"visibility": "clinical", "body": "x"})
    assert refused.status_code == 400
    assert not Note.objects.filter(case=case).exists()


def test_intake_errors_come_as_a_summary_and_at_each_field(people, web):
    future = _local(timezone.now() + dt.timedelta(days=2))
    refused = web(people.dcfs_case_worker).post(
        "/app/referrals/new/", _intake(first_name="", source="", hotline_reported_at=future)
    )
    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'id="error-summary"' in html
    assert 'href="#id_first_name"' in html and 'href="#id_source"' in html
    assert 'id="id_first_name-error"' in html
    assert not Referral.objects.exists()


def test_a_fact_time_in_the_future_is_refused_by_the_service_rule(people, web):
    future = _local(timezone.now() + dt.timedelta(days=2))
    refused = web(people.dcfs_case_worker).post("/app/referrals/new/", _intake(hotline_reported_at=future))
    assert refused.status_code == 400
    assert 'id="error-summary"' in refused.content.decode()
    assert not Referral.objects.exists()


def test_a_probation_worker_gets_404s_and_sees_nothing_hidden(people, web, held_by_probation):
    from tests.cases.factories import open_case

    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    referral = case.referrals.get()
    probation = people.probation_case_worker
    for path in (
        f"/app/cases/{case.pk}/",
        f"/app/referrals/{referral.pk}/",
        f"/app/referrals/{referral.pk}/accept/",
        "/app/cases/999999/",
    ):
        answer = web(probation).get(path)
        assert answer.status_code == 404, path
        assert "Page not found" in answer.content.decode()
    refused = web(probation).post(f"/app/cases/{case.pk}/notes/", {"visibility": "team", "body": "x"})
    assert refused.status_code == 404
    found = web(probation).get("/app/cases/", {"q": case.number}).content.decode()
    assert case.number not in found.split("Cases found")[-1]
    home = web(probation).get("/app/").content.decode()
    assert case.number not in home and "Jasmine" not in home
    denied = AuditEvent.objects.filter(actor_id=probation.pk, action=AuditEvent.Action.PERMISSION_DENIED)
    assert denied.exists()


def test_roles_without_case_access_get_404_on_case_pages(people, web):
    from tests.cases.factories import open_case

    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    for person in (people.dcfs_mdt_member, people.dcfs_agency_admin, people.dcfs_auditor):
        assert web(person).get(f"/app/cases/{case.pk}/").status_code == 404
        assert web(person).get("/app/referrals/new/").status_code == 404
        assert web(person).get("/app/").status_code == 200


def test_find_a_case_by_number_or_youth_name(people, web):
    from tests.cases.factories import open_case

    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    by_number = web(people.dcfs_supervisor).get("/app/cases/", {"q": case.number}).content.decode()
    assert f"/app/cases/{case.pk}/" in by_number
    by_name = web(people.dcfs_supervisor).get("/app/cases/", {"q": "carter"}).content.decode()
    assert f"/app/cases/{case.pk}/" in by_name


def test_mark_read_from_the_inbox(people, web):
    from notifications.models import Notification

    worker = people.dcfs_case_worker
    fields = {f.name for f in Notification._meta.get_fields()}
    note = Notification.objects.create(
        recipient=worker,
        subject="[Safe Harbor] Due: written report — Referral R-1",
        **({"rule": "x"} if "rule" in fields else {}),
    )
    page = web(worker).get("/app/").content.decode()
    assert f'hx-post="/app/notifications/{note.pk}/read/"' in page
    marked = web(worker).post(f"/app/notifications/{note.pk}/read/", HTTP_HX_REQUEST="true")
    assert marked.status_code == 200
    note.refresh_from_db()
    assert note.read_at is not None
    assert web(people.dcfs_supervisor).post(f"/app/notifications/{note.pk}/read/").status_code == 404


def test_preferences_page_saves_through_the_service(people, web):
    from notifications.models import NotificationPreference

    worker = people.dcfs_case_worker
    page = web(worker).get("/app/preferences/").content.decode()
    rules = re.findall(r'name="email" value="([^"]+)"', page)
    assert rules
    saved = web(worker).post("/app/preferences/", {"email": rules[1:]})
    assert saved.status_code == 302
    assert NotificationPreference.objects.get(user=worker, rule=rules[0]).email is False


def test_case_close_is_for_the_lead_supervisor(people, web):
    from tests.cases.factories import open_case

    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    assert web(people.dcfs_case_worker).post(f"/app/cases/{case.pk}/close/", {"close-reason": "x"}).status_code == 403
    closed = web(people.dcfs_supervisor).post(f"/app/cases/{case.pk}/close/", {"close-reason": "Goals met."})
    assert closed.status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_an_invited_worker_sets_a_password_and_lands_home(people, as_user, django_capture_on_commit_callbacks):
    from django.core import mail
    from django.test import Client

    with django_capture_on_commit_callbacks(execute=True):
        created = as_user(people.dcfs_agency_admin).post(
            "/api/v1/users/", {"username": "new_worker", "email": "new@example.invalid", "role": "case_worker"}
        )
    assert created.status_code == 201
    link = re.search(r"https?://[^/\s]+(/accounts/set-password/[^\s]+/)", mail.outbox[-1].body).group(1)
    browser = Client()
    form = browser.get(link, follow=True)
    assert "Welcome to Safe Harbor" in form.content.decode()
    assert "uswds" in form.content.decode()
    password = "a-long-new-password-for-web-77"
    done = browser.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}, follow=True)
    assert done.redirect_chain[-1][0] == "/app/"
    assert "My work" in done.content.decode()


def test_an_emailed_deadline_link_opens_the_web_page_of_its_object(people, web):
    from notifications.models import Deadline
    from tests.cases.factories import open_case

    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    deadline = Deadline.objects.filter(referral__case=case).first() or Deadline.objects.filter(case=case).first()
    assert deadline is not None
    assert deadline.link_path.startswith("/app/")
    from django.test import Client

    stranger = Client()
    asked = stranger.get(deadline.link_path.split("#")[0])
    assert asked.status_code == 302 and asked["Location"].startswith("/app/sign-in/?next=")
    assert web(people.dcfs_case_worker).get(deadline.link_path.split("#")[0]).status_code == 200
    assert web(people.probation_case_worker).get(deadline.link_path.split("#")[0]).status_code == 404
