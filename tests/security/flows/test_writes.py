"""Abuse stories about writes (SPEC §1): every write needs the read's visibility plus the
capability for that action.

- A participant whose participation expired or was revoked can do nothing on the case: every
  write on a case or its parts re-checks visibility at write time, inside its transaction (404).
- Youth identity is edited by the lead agency's case team and supervisors of the open case, or by
  the agency holding the record when there is no open case; others who see it get 403.
- A referral is edited by its creator until it is decided, by the receiving agency's supervisors
  after; by nobody else.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.http import Http404

import cases.services
from cases.models import CaseTeamMember, MissingEpisode, Note, Placement, SafetyAlert, Youth
from cases.services import cases as case_services
from cases.services import court_hearings as hearing_services
from cases.services import missing_episodes as episode_services
from cases.services import notes as note_services
from cases.services import placements as placement_services
from cases.services import referrals as referral_services
from cases.services import safety_alerts as alert_services
from cases.services import service_referrals as service_referral_services
from core.errors import ApplicationError
from tests.cases import conftest as cases_fixtures
from tests.cases.factories import create_referral, create_youth, open_case

pytestmark = pytest.mark.django_db

# The cases suite's fixtures: one person per role per partner agency, and the indicator codes.
people = cases_fixtures.people
as_user = cases_fixtures.as_user
indicator_codes = cases_fixtures.indicator_codes

T = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)


# --- the case an agency was let into, then out of -------------------------------------------------


def _shared_case(people: Any) -> SimpleNamespace:
    """DCFS leads; DMH was shared the case under a one-day consent, its clinician put on the team
    and its supervisor working it; each part of the case exists once, to be changed."""
    lead = people.dcfs_supervisor
    case = open_case(people.dcfs_case_worker, lead)
    participation = case_services.case_agency_grant(
        case=case,
        actor=lead,
        agency=people.dmh_case_worker.agency,
        legal_basis="consent",
        expires_at=T + dt.timedelta(days=1),
    )
    clinician = case_services.case_team_member_add(
        case=case, actor=lead, user=people.dmh_case_worker, case_role="clinician"
    )
    episode = episode_services.missing_episode_create(
        case=case,
        actor=people.dmh_case_worker,
        missing_since=T - dt.timedelta(hours=3),
        learned_at=T - dt.timedelta(hours=2),
    )
    parts = {
        "placement": placement_services.placement_create(
            case=case, actor=people.dmh_case_worker, placement_type="shelter", start_date=T.date()
        ),
        "service": service_referral_services.service_referral_create(
            case=case, actor=people.dmh_case_worker, provider="Synthetic Clinic", referred_at=T - dt.timedelta(hours=1)
        ),
        "hearing": hearing_services.court_hearing_create(
            case=case, actor=people.dmh_case_worker, starts_at=T + dt.timedelta(days=9), hearing_type="review"
        ),
        "alert": alert_services.safety_alert_create(
            case=case, actor=people.dmh_case_worker, kind="safety_risk", summary="Synthetic"
        ),
    }
    return SimpleNamespace(case=case, participation=participation, clinician=clinician, episode=episode, **parts)


#: Every service that writes a case or one of its parts, as the DMH people (whose participation
#: has ended) would call it. `test_every_case_part_writer_is_in_the_table` fails when a service
#: is added without a row here — and the row is what proves the new writer re-checks visibility.
#: name: (who, call)
CASE_PART_WRITES: dict[str, tuple[str, Callable[[SimpleNamespace, Any, Any], Any]]] = {
    "case_note_add": (
        "dmh_case_worker",
        lambda w, p, actor: note_services.case_note_add(case=w.case, actor=actor, body="Synthetic", visibility="team"),
    ),
    "missing_episode_create": (
        "dmh_case_worker",
        lambda w, p, actor: episode_services.missing_episode_create(
            case=w.case, actor=actor, missing_since=T - dt.timedelta(hours=1), learned_at=T - dt.timedelta(minutes=30)
        ),
    ),
    "missing_episode_update": (
        "dmh_case_worker",
        lambda w, p, actor: episode_services.missing_episode_update(
            episode=w.episode, actor=actor, data={"ncic_number": "SYN-1"}
        ),
    ),
    "placement_create": (
        "dmh_case_worker",
        lambda w, p, actor: placement_services.placement_create(
            case=w.case, actor=actor, placement_type="shelter", start_date=T.date()
        ),
    ),
    "service_referral_create": (
        "dmh_case_worker",
        lambda w, p, actor: service_referral_services.service_referral_create(
            case=w.case, actor=actor, provider="Synthetic Clinic", referred_at=T - dt.timedelta(minutes=10)
        ),
    ),
    "court_hearing_create": (
        "dmh_case_worker",
        lambda w, p, actor: hearing_services.court_hearing_create(
            case=w.case, actor=actor, starts_at=T + dt.timedelta(days=9), hearing_type="review"
        ),
    ),
    "safety_alert_create": (
        "dmh_case_worker",
        lambda w, p, actor: alert_services.safety_alert_create(
            case=w.case, actor=actor, kind="safety_risk", summary="Synthetic"
        ),
    ),
    "placement_update": (
        "dmh_case_worker",
        lambda w, p, actor: placement_services.placement_update(
            placement=w.placement, actor=actor, data={"end_date": T.date(), "end_reason": "Synthetic"}
        ),
    ),
    "service_referral_update": (
        "dmh_case_worker",
        lambda w, p, actor: service_referral_services.service_referral_update(
            service=w.service, actor=actor, data={"status": "accepted"}
        ),
    ),
    "court_hearing_update": (
        "dmh_case_worker",
        lambda w, p, actor: hearing_services.court_hearing_update(
            hearing=w.hearing, actor=actor, data={"status": "cancelled", "reason": "Synthetic"}
        ),
    ),
    # The alert's author resolves it: the right to it ends with the participation.
    "safety_alert_resolve": (
        "dmh_case_worker",
        lambda w, p, actor: alert_services.safety_alert_resolve(alert=w.alert, actor=actor, reason="Synthetic"),
    ),
    # A participant's supervisor removes (and assigns again) their own agency's people.
    "case_team_member_remove": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_team_member_remove(member=w.clinician, actor=actor),
    ),
    "case_team_member_add": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_team_member_add(
            case=w.case, actor=actor, user=p.dmh_case_worker, case_role="clinician"
        ),
    ),
}
#: Writers of the case record and its sharing: the lead agency's (supervisors') alone, so a
#: participant — current or not — is refused by the capability already. Still run below.
LEAD_ONLY_WRITES: dict[str, tuple[str, Callable[[SimpleNamespace, Any, Any], Any]]] = {
    "case_update": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_update(case=w.case, actor=actor, data={"csec_status": "identified"}),
    ),
    "case_close": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_close(case=w.case, actor=actor, reason="x"),
    ),
    "case_reopen": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_reopen(case=w.case, actor=actor, reason="x"),
    ),
    "case_agency_grant": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_agency_grant(
            case=w.case, actor=actor, agency=p.sheriff_supervisor.agency, legal_basis="mdt_18961_7"
        ),
    ),
    "case_agency_renew": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_agency_renew(participation=w.participation, actor=actor, good_cause="x"),
    ),
    "case_agency_revoke": (
        "dmh_supervisor",
        lambda w, p, actor: case_services.case_agency_revoke(participation=w.participation, actor=actor),
    ),
}
#: Keyword parameters that make a service a writer of a case or one of its parts.
CASE_PART_PARAMS = {"case", "episode", "member", "placement", "service", "hearing", "alert", "participation", "note"}
#: Services that take such a parameter but do not write a case's parts (none today).
NOT_CASE_PART_WRITES: set[str] = set()


def _counts() -> tuple[int, ...]:
    return (
        Note.objects.count(),
        MissingEpisode.objects.exclude(ncic_number="").count(),
        MissingEpisode.objects.count(),
        Placement.objects.count(),
        SafetyAlert.objects.count(),
        CaseTeamMember.objects.filter(removed_at__isnull=True).count(),
    )


def _assert_writes_nothing(world: SimpleNamespace, people: Any, as_user: Any) -> None:
    before = _counts()
    for who, write in CASE_PART_WRITES.values():
        with pytest.raises(Http404):
            write(world, people, getattr(people, who))
    for name, (who, write) in LEAD_ONLY_WRITES.items():
        with pytest.raises((Http404, ApplicationError)) as refused:
            write(world, people, getattr(people, who))
        if isinstance(refused.value, ApplicationError):
            assert refused.value.status_code in {403, 404}, name
    # and through the API, the episode by its own path included
    clinician = as_user(people.dmh_case_worker)
    patched = clinician.patch(f"/api/v1/missing-episodes/{world.episode.pk}/", {"ncic_number": "SYN-2"}, format="json")
    assert patched.status_code == 404
    noted = clinician.post(
        f"/api/v1/cases/{world.case.pk}/notes/", {"body": "Synthetic", "visibility": "team"}, format="json"
    )
    assert noted.status_code == 404
    assert _counts() == before


def test_expired_participant_cannot_write(people, as_user):
    # given: DMH's consent ran for a day
    with time_machine.travel(T, tick=False):
        world = _shared_case(people)
    # when / then: two days later DMH's people write nothing on the case
    with time_machine.travel(T + dt.timedelta(days=2), tick=False):
        _assert_writes_nothing(world, people, as_user)


def test_revoked_participant_cannot_write(people, as_user):
    # given: the lead revokes DMH's share while its consent still runs
    with time_machine.travel(T, tick=False):
        world = _shared_case(people)
        case_services.case_agency_revoke(participation=world.participation, actor=people.dcfs_supervisor)
        # when / then
        _assert_writes_nothing(world, people, as_user)


def test_a_current_participant_still_writes_the_parts(people):
    """The table's calls are real writes: while the share runs, each succeeds."""
    with time_machine.travel(T, tick=False):
        world = _shared_case(people)
        for name, (who, write) in CASE_PART_WRITES.items():
            assert write(world, people, getattr(people, who)) is not None, name


def _case_services_modules() -> list[Any]:
    """Every module of cases.services but `sharing` (participations: tests/security/flows/test_sharing.py)."""
    return [
        importlib.import_module(f"{cases.services.__name__}.{info.name}")
        for info in pkgutil.iter_modules(cases.services.__path__)
        if info.name != "sharing"
    ]


def test_every_case_part_writer_is_in_the_table():
    modules = _case_services_modules()
    assert {m.__name__.rsplit(".", 1)[1] for m in modules} >= {
        "youth",
        "referrals",
        "cases",
        "notes",
        "missing_episodes",
        "placements",
        "service_referrals",
        "court_hearings",
        "safety_alerts",
    }  # the scan is real
    writers = {
        name
        for module in modules
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and not name.startswith("_")
        and CASE_PART_PARAMS & set(inspect.signature(fn).parameters)
    }
    missing = writers - set(CASE_PART_WRITES) - set(LEAD_ONLY_WRITES) - NOT_CASE_PART_WRITES
    assert not missing, f"add a row to CASE_PART_WRITES for {sorted(missing)} (and call case_services.case_for_write)"


# --- youth identity ----------------------------------------------------------------------------------


def test_only_the_lead_case_team_edits_youth_identity(people, as_user):
    # given: DCFS leads the youth's open case (its worker on the team); DMH shares it, its
    # clinician on the team too
    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    if not CaseTeamMember.objects.filter(case=case, user=people.dcfs_case_worker, removed_at__isnull=True).exists():
        case_services.case_team_member_add(
            case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
        )
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.dmh_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dmh_case_worker, case_role="clinician"
    )
    url = f"/api/v1/youth/{case.youth_id}/"

    def patch(user: Any, **body: Any) -> int:
        return as_user(user).patch(url, body, format="json").status_code

    # then: the participating agency sees the youth but may not change who the child is
    assert as_user(people.dmh_case_worker).get(url).status_code == 200
    assert patch(people.dmh_case_worker, last_name="Decoy") == 403
    assert patch(people.dmh_supervisor, aliases=["Decoy"]) == 403
    assert patch(people.dmh_supervisor, external_ids=[{"agency": "DMH", "value": "SYN-DMH-1"}]) == 403
    # those who do not see it get 404
    assert patch(people.dcfs_worker2, last_name="Decoy") == 404
    assert patch(people.probation_supervisor, last_name="Decoy") == 404
    assert Youth.objects.get(pk=case.youth_id).last_name == "Carter"
    # the lead agency's case team and supervisors may
    assert patch(people.dcfs_case_worker, last_name="Monroe") == 200
    assert patch(people.dcfs_supervisor, aliases=["Jazzy", "J"]) == 200

    # given: a record with no open case, held by DMH (its clinician created it) and referred to DCFS
    held = create_youth(people.dmh_case_worker, first_name="Aria", last_name="Lane")
    create_referral(people.dmh_case_worker, youth=held, receiving_agency=people.dcfs_supervisor.agency)
    held_url = f"/api/v1/youth/{held.pk}/"
    # then: the receiving agency sees it but does not hold it
    assert as_user(people.dcfs_supervisor).get(held_url).status_code == 200
    assert as_user(people.dcfs_supervisor).patch(held_url, {"last_name": "Decoy"}, format="json").status_code == 403
    # the holding agency's supervisor and the record's creator may
    assert as_user(people.dmh_supervisor).patch(held_url, {"last_name": "Lane-Ruiz"}, format="json").status_code == 200
    assert as_user(people.dmh_case_worker).patch(held_url, {"first_name": "Arya"}, format="json").status_code == 200


# --- referrals ---------------------------------------------------------------------------------------


def test_referral_is_edited_by_its_creator_until_decided_then_by_receiving_supervisors(people, as_user):
    # given: a Sheriff deputy's referral to DCFS, not yet decided
    referral = create_referral(people.sheriff_case_worker, receiving_agency=people.dcfs_supervisor.agency)
    url = f"/api/v1/referrals/{referral.pk}/"

    def patch(user: Any) -> int:
        return as_user(user).patch(url, {"narrative": "Synthetic edit."}, format="json").status_code

    # then: only its creator edits it while it waits
    assert patch(people.sheriff_case_worker) == 200
    assert patch(people.sheriff_supervisor) == 403  # sees it (its agency referred it)
    assert patch(people.dcfs_supervisor) == 403  # sees it (its agency receives it)
    assert patch(people.dcfs_case_worker) == 404
    # when: DCFS accepts it and puts its worker on the case team
    referral_services.referral_screen(
        referral=referral, actor=people.dcfs_supervisor, level="clear_concern", instrument="CSE-IT"
    )
    case = referral_services.referral_accept(referral=referral, actor=people.dcfs_supervisor).case
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    # then: the receiving agency's supervisors edit it; its creator no longer does
    assert patch(people.sheriff_case_worker) == 403
    assert patch(people.dcfs_case_worker) == 403
    assert patch(people.dcfs_supervisor) == 200
    # and a declined referral the same
    declined = create_referral(people.sheriff_case_worker, receiving_agency=people.dcfs_supervisor.agency)
    referral_services.referral_decline(referral=declined, actor=people.dcfs_supervisor, reason="Synthetic")
    declined_url = f"/api/v1/referrals/{declined.pk}/"
    body = {"narrative": "Synthetic edit."}
    assert as_user(people.sheriff_case_worker).patch(declined_url, body, format="json").status_code == 403
    assert as_user(people.dcfs_supervisor).patch(declined_url, body, format="json").status_code == 200


def test_referral_update_rechecks_the_creator_at_write_time(people):
    """The service itself refuses (not just the API): a decision in between counts."""
    referral = create_referral(people.sheriff_case_worker, receiving_agency=people.dcfs_supervisor.agency)
    referral_services.referral_decline(referral=referral, actor=people.dcfs_supervisor, reason="Synthetic")
    with pytest.raises(ApplicationError) as refused:
        referral_services.referral_update(referral=referral, actor=people.sheriff_case_worker, data={"narrative": "x"})
    assert refused.value.status_code == 403
    with pytest.raises(Http404):
        referral_services.referral_update(referral=referral, actor=people.probation_supervisor, data={"narrative": "x"})


def test_participation_expiry_is_judged_at_write_time_not_at_load_time(people):
    """A page loaded while the share ran does not let a write through after it ended."""
    with time_machine.travel(T, tick=False):
        world = _shared_case(people)
        loaded = case_services.case_for_write(case_id=world.case.pk, actor=people.dmh_case_worker)[0]
    with time_machine.travel(T + dt.timedelta(days=1, seconds=1), tick=False), pytest.raises(Http404):
        note_services.case_note_add(case=loaded, actor=people.dmh_case_worker, body="Synthetic", visibility="team")
