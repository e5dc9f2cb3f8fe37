"""The case page's course (issue 15 §6, SPEC §2): close is refused while the youth is missing
and says why; a closed case shows it and takes notes (and its episodes' reports and debrief)
only; a supervisor of the lead reopens it with a reason; the whole return debrief is recorded
through the page, part by part, as the API's missing-episode PATCH takes it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case, MissingEpisode
from cases.services import missing_episodes as episode_services
from tests.cases.factories import open_case

pytestmark = pytest.mark.django_db


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _episode(case, actor, *, returned=False):  # type: ignore[no-untyped-def]
    now = timezone.now()
    values = {"missing_since": now - dt.timedelta(days=2), "learned_at": now - dt.timedelta(days=2)}
    if returned:
        values["returned_at"] = now - dt.timedelta(hours=5)
    return episode_services.missing_episode_create(case=case, actor=actor, **values)


def test_close_is_refused_while_the_youth_is_missing_and_says_why(people, web):
    supervisor = people.dcfs_supervisor
    case = open_case(people.dcfs_case_worker, supervisor)
    _episode(case, people.dcfs_case_worker)

    page = web(supervisor).get(f"/app/cases/{case.pk}/").content.decode()
    assert "the case cannot close until the return is recorded" in page

    refused = web(supervisor).post(f"/app/cases/{case.pk}/close/", {"close-reason": "Services completed."})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert 'id="error-summary"' in body and "The youth is still missing" in body
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN


def test_a_closed_case_takes_notes_only_and_a_lead_supervisor_reopens_it(people, web):
    supervisor, worker = people.dcfs_supervisor, people.dcfs_case_worker
    case = open_case(worker, supervisor)
    closed = web(supervisor).post(f"/app/cases/{case.pk}/close/", {"close-reason": "Services completed."})
    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED

    page = web(worker).get(f"/app/cases/{case.pk}/").content.decode()
    assert "This case is closed" in page and "It takes notes only" in page
    assert f"/app/cases/{case.pk}/notes/" in page
    for gone in ('/missing-episodes/"', "/team/", '/agencies/"', "/close/", "/reopen/"):
        assert f"/app/cases/{case.pk}{gone}" not in page, gone
    # a note still goes in
    note = web(worker).post(f"/app/cases/{case.pk}/notes/", {"visibility": "team", "body": "After closing."})
    assert note.status_code == 302

    # a worker cannot reopen (the API's 403), a supervisor of the lead can, with a reason
    assert web(worker).post(f"/app/cases/{case.pk}/reopen/", {"reopen-reason": "New referral."}).status_code == 403
    blank = web(supervisor).post(f"/app/cases/{case.pk}/reopen/", {"reopen-reason": ""})
    assert blank.status_code == 400 and 'id="error-summary"' in blank.content.decode()
    sup_page = web(supervisor).get(f"/app/cases/{case.pk}/").content.decode()
    assert f"/app/cases/{case.pk}/reopen/" in sup_page
    reopened = web(supervisor).post(f"/app/cases/{case.pk}/reopen/", {"reopen-reason": "Went missing again."})
    assert reopened.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.reopen_reason) == (Case.Status.OPEN, "Went missing again.")
    assert "Went missing again." in web(supervisor).get(f"/app/cases/{case.pk}/").content.decode()


def test_another_agency_cannot_reopen(people, web):
    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    web(people.dcfs_supervisor).post(f"/app/cases/{case.pk}/close/", {"close-reason": "Done."})
    answer = web(people.probation_supervisor).post(f"/app/cases/{case.pk}/reopen/", {"reopen-reason": "x"})
    assert answer.status_code == 404


def test_the_whole_return_debrief_is_recorded_part_by_part(people, web):
    worker, supervisor = people.dcfs_case_worker, people.dcfs_supervisor
    case = open_case(worker, supervisor)
    episode = _episode(case, worker, returned=True)
    prefix = f"return{episode.pk}"
    returned = _local(episode.returned_at)

    page = web(worker).get(f"/app/cases/{case.pk}/").content.decode()
    assert "Still to record:" in page and "the screening on return" in page

    # first part: when, why and what happened while away
    first = web(worker).post(
        f"/app/cases/{case.pk}/missing-episodes/{episode.pk}/return/",
        {
            f"{prefix}-returned_at": returned,
            f"{prefix}-return_debrief_at": _local(timezone.now() - dt.timedelta(hours=1)),
            f"{prefix}-absence_factors": "Conflict at the placement.",
            f"{prefix}-experiences_while_absent": "Stayed with an older friend.",
            f"{prefix}-exploited_while_absent": "unknown",
        },
    )
    assert first.status_code == 302, first.content.decode()[:2000]
    episode.refresh_from_db()
    assert episode.debriefed_by_id == worker.pk  # who records it, unless told
    assert episode.debrief_missing == ["return_screening"]
    after = web(worker).get(f"/app/cases/{case.pk}/").content.decode()
    assert "Conflict at the placement." in after and "the screening on return" in after

    # a level without its instrument is refused at the field
    bad = web(worker).post(
        f"/app/cases/{case.pk}/missing-episodes/{episode.pk}/return/",
        {f"{prefix}-returned_at": returned, f"{prefix}-screening_level": "possible_concern"},
    )
    assert bad.status_code == 400
    assert "Name the instrument of the screening on return." in bad.content.decode()

    # the screening completes it, naming who held the debrief
    done = web(worker).post(
        f"/app/cases/{case.pk}/missing-episodes/{episode.pk}/return/",
        {
            f"{prefix}-returned_at": returned,
            f"{prefix}-debriefed_by": str(worker.pk),
            f"{prefix}-screening_level": "possible_concern",
            f"{prefix}-screening_instrument": "CSE-IT",
        },
    )
    assert done.status_code == 302
    episode = MissingEpisode.objects.select_related("return_screening").get(pk=episode.pk)
    assert episode.debrief_missing == []
    assert episode.return_screening.level == "possible_concern"
    assert "Recorded as a whole." in web(worker).get(f"/app/cases/{case.pk}/").content.decode()


def test_a_debriefer_who_does_not_work_the_case_is_refused(people, web):
    worker = people.dcfs_case_worker
    case = open_case(worker, people.dcfs_supervisor)
    episode = _episode(case, worker, returned=True)
    prefix = f"return{episode.pk}"
    answer = web(worker).post(
        f"/app/cases/{case.pk}/missing-episodes/{episode.pk}/return/",
        {
            f"{prefix}-returned_at": _local(episode.returned_at),
            f"{prefix}-debriefed_by": str(people.probation_case_worker.pk),
        },
    )
    # not one of the choices offered: refused at the field, nothing saved
    assert answer.status_code == 400
    episode.refresh_from_db()
    assert episode.debriefed_by_id is None
