"""The return debrief of WIC 16501.35 (SPEC §2), recorded over HTTP on the missing episode: the
contributing factors, the youth's experiences while away (and whether they were exploited), a
screening on return and who debriefed. Its 72-hour clock is met only when all of it is in; the
narrative parts are encrypted at rest and read as `team` notes are."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import MissingEpisode
from notifications.models import Deadline

from .factories import open_case

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FACTORS = "Synthetic: conflict at the placement."
EXPERIENCES = "Synthetic: stayed with an older acquaintance."


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def debrief_clock(episode_id: int) -> Deadline:
    return Deadline.objects.get(rule__code="return_debrief_72h", object_id=episode_id)


@pytest.fixture
def episode(people, as_user):  # type: ignore[no-untyped-def]
    """A DCFS case (its referring DCFS worker on its team) whose youth went missing and came
    back 2 hours ago."""
    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    now = timezone.now()
    body = ok(
        as_user(people.dcfs_case_worker).post(
            f"/api/v1/cases/{case.pk}/missing-episodes/",
            {
                "missing_since": (now - dt.timedelta(days=2)).isoformat(),
                "learned_at": (now - dt.timedelta(days=2)).isoformat(),
                "returned_at": (now - dt.timedelta(hours=2)).isoformat(),
            },
            format="json",
        ),
        201,
    )
    body["url"] = f"/api/v1/missing-episodes/{body['id']}/"
    body["case_id"] = case.pk
    return body


def patch(client, episode, data):  # type: ignore[no-untyped-def]
    etag = client.get(episode["url"])["ETag"]
    return client.patch(episode["url"], data, format="json", HTTP_IF_MATCH=etag)


def test_the_debrief_clock_is_met_only_when_all_of_the_debrief_is_recorded(people, as_user, episode):  # type: ignore[no-untyped-def]
    worker = as_user(people.dcfs_case_worker)
    held = timezone.now() - dt.timedelta(hours=1)
    assert debrief_clock(episode["id"]).status == "open"
    assert set(episode["debrief_missing"]) == {
        "return_debrief_at",
        "debriefed_by",
        "absence_factors",
        "experiences_while_absent",
        "exploited_while_absent",
        "return_screening",
    }

    # when the debrief's time is recorded (the worker who records it held it)...
    body = ok(patch(worker, episode, {"return_debrief_at": held.isoformat()}))
    assert body["debriefed_by"] == people.dcfs_case_worker.pk
    # ...and the factors and experiences: the clock is still open, naming what is missing
    body = ok(patch(worker, episode, {"absence_factors": FACTORS, "experiences_while_absent": EXPERIENCES}))
    assert set(body["debrief_missing"]) == {"exploited_while_absent", "return_screening"}
    assert debrief_clock(episode["id"]).status == "open"
    body = ok(patch(worker, episode, {"exploited_while_absent": "yes"}))
    assert body["debrief_missing"] == ["return_screening"]
    assert debrief_clock(episode["id"]).status == "open"

    # when the screening on return goes in: the whole debrief is recorded and the clock is met
    screened = timezone.now() - dt.timedelta(minutes=30)
    body = ok(
        patch(
            worker,
            episode,
            {
                "return_screening": {
                    "level": "clear_concern",
                    "instrument": "CSE-IT",
                    "screened_at": screened.isoformat(),
                }
            },
        )
    )
    assert body["debrief_missing"] == []
    assert body["return_screening"]["level"] == "clear_concern"
    assert body["return_screening"]["screened_by"] == people.dcfs_case_worker.pk
    clock = debrief_clock(episode["id"])
    assert clock.status == "met"
    assert abs(clock.met_at - screened) < dt.timedelta(seconds=1)  # the later of debrief and screening
    # and the reader sees the whole debrief
    shown = ok(as_user(people.dcfs_supervisor).get(episode["url"]))
    assert shown["absence_factors"] == FACTORS and shown["experiences_while_absent"] == EXPERIENCES
    assert shown["exploited_while_absent"] == "yes"


def test_a_debrief_recorded_at_once_meets_the_clock_and_names_who_debriefed(people, as_user, episode):  # type: ignore[no-untyped-def]
    # when the supervisor records a debrief another worker of the case held
    body = ok(
        patch(
            as_user(people.dcfs_supervisor),
            episode,
            {
                "return_debrief_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
                "debriefed_by": people.dcfs_case_worker.pk,
                "absence_factors": FACTORS,
                "experiences_while_absent": EXPERIENCES,
                "exploited_while_absent": "unknown",
                "return_screening": {"level": "possible_concern", "instrument": "CSE-IT"},
            },
        )
    )
    # then
    assert body["debriefed_by"] == people.dcfs_case_worker.pk and body["debrief_missing"] == []
    assert debrief_clock(episode["id"]).status == "met"


def test_the_debrief_is_refused_when_it_cannot_be_right(people, as_user, episode):  # type: ignore[no-untyped-def]
    worker = as_user(people.dcfs_case_worker)
    before_return = (timezone.now() - dt.timedelta(hours=3)).isoformat()
    # who debriefed must work the case: someone of an agency not on it, or no such user
    for who in (people.sheriff_case_worker.pk, 999_999):
        response = patch(worker, episode, {"debriefed_by": who})
        assert response.status_code == 400 and "debriefed_by" in response.json()["errors"], response.content
    # an exploitation answer outside yes / no / unknown
    assert patch(worker, episode, {"exploited_while_absent": "maybe"}).status_code == 400
    # a screening before the return, or in the future
    for at in (before_return, (timezone.now() + dt.timedelta(hours=1)).isoformat()):
        response = patch(
            worker, episode, {"return_screening": {"level": "no_concern", "instrument": "X", "screened_at": at}}
        )
        assert response.status_code == 400, response.content
    # and nothing was recorded
    assert debrief_clock(episode["id"]).status == "open"
    assert ok(worker.get(episode["url"]))["return_screening"] is None


def test_a_debrief_needs_the_return_first(people, as_user):  # type: ignore[no-untyped-def]
    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    now = timezone.now()
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/cases/{case.pk}/missing-episodes/",
        {
            "missing_since": (now - dt.timedelta(hours=5)).isoformat(),
            "learned_at": (now - dt.timedelta(hours=5)).isoformat(),
            "absence_factors": FACTORS,
        },
        format="json",
    )
    assert response.status_code == 400 and "absence_factors" in response.json()["errors"]


def test_the_narrative_parts_are_encrypted_at_rest(people, as_user, episode):  # type: ignore[no-untyped-def]
    ok(
        patch(
            as_user(people.dcfs_case_worker),
            episode,
            {"absence_factors": FACTORS, "experiences_while_absent": EXPERIENCES},
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT absence_factors, experiences_while_absent FROM cases_missingepisode WHERE id = %s", [episode["id"]]
        )
        stored = cursor.fetchone()
        cursor.execute(
            "SELECT absence_factors FROM cases_historicalmissingepisode WHERE id = %s AND absence_factors <> ''",
            [episode["id"]],
        )
        historical = [row[0] for row in cursor.fetchall()]
    assert all(value.startswith("fernet:") for value in stored)
    assert "Synthetic" not in "".join(stored) + "".join(historical)
    assert historical and all(value.startswith("fernet:") for value in historical)


def test_key_rotation_covers_the_debrief(people, as_user, episode, settings):  # type: ignore[no-untyped-def]
    import io

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from cases import crypto

    # given a debrief written under the current key
    old = crypto.field_keys()
    ok(
        patch(
            as_user(people.dcfs_case_worker),
            episode,
            {"absence_factors": FACTORS, "experiences_while_absent": EXPERIENCES},
        )
    )
    try:
        # when a new key goes first and the rotation runs
        new = Fernet.generate_key().decode()
        settings.HARBOR_FIELD_KEYS = [new, *old]
        crypto.reset_key_cache()
        call_command("rotate_field_keys", "--no-progress", stdout=io.StringIO())
        # then the debrief's narrative (current row and history) is under the new key, and reads back
        settings.HARBOR_FIELD_KEYS = [new]
        crypto.reset_key_cache()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT absence_factors, experiences_while_absent FROM cases_missingepisode WHERE id = %s",
                [episode["id"]],
            )
            stored = list(cursor.fetchone())
            cursor.execute(
                "SELECT absence_factors FROM cases_historicalmissingepisode WHERE id = %s AND absence_factors <> ''",
                [episode["id"]],
            )
            stored += [row[0] for row in cursor.fetchall()]
        assert stored and all(crypto.is_current(value) for value in stored)
        saved = MissingEpisode.objects.get(pk=episode["id"])
        assert saved.absence_factors == FACTORS and saved.experiences_while_absent == EXPERIENCES
    finally:
        crypto.reset_key_cache()


def test_the_debrief_is_read_as_team_notes_are(people, as_user, episode):  # type: ignore[no-untyped-def]
    """Everyone who may see the case reads it (a sharing agency too); an MDT member, an admin
    and an agency that does not take part get nothing (404)."""
    ok(patch(as_user(people.dcfs_case_worker), episode, {"absence_factors": FACTORS}))
    ok(
        as_user(people.dcfs_supervisor).post(
            f"/api/v1/cases/{episode['case_id']}/agencies/",
            {"agency": "DMH", "legal_basis": "mdt_18961_7"},
            format="json",
        ),
        201,
    )
    assert ok(as_user(people.dmh_supervisor).get(episode["url"]))["absence_factors"] == FACTORS
    listed = ok(as_user(people.dmh_supervisor).get(f"/api/v1/cases/{episode['case_id']}/missing-episodes/"))
    assert listed["results"][0]["absence_factors"] == FACTORS
    for outsider in (people.dcfs_mdt_member, people.dcfs_agency_admin, people.sheriff_supervisor):
        response = as_user(outsider).get(episode["url"])
        assert response.status_code == 404 and FACTORS not in response.content.decode()
    # nor can they write it
    response = as_user(people.sheriff_supervisor).patch(episode["url"], {"absence_factors": "x"}, format="json")
    assert response.status_code == 404
