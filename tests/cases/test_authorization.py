"""The cases authorization matrix (SPEC §1, §8): every cases operation × role × scope, as data.

Scopes are in the roles, around one DCFS-led case (a Sheriff referral accepted by DCFS) and one
pending referral created by the DCFS worker:
- lead_worker: DCFS case worker on the case team (creator of the pending referral);
- lead_supervisor: DCFS supervisor (lead and receiving agency);
- other_worker: a DCFS case worker not on the team;
- part_supervisor / part_worker: DMH supervisor / DMH clinician on the team (DMH participates);
- outsider: a Probation supervisor (Probation does not participate);
- mdt_member, agency_admin, auditor, system_admin: no case data at all;
- anonymous.
Every success leaves an audit event by the actor; every 404 looks the same. A test fails when a
cases operation of the OpenAPI schema has no row here."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from cases.services import cases as case_services
from cases.services import missing_episodes as episode_services
from cases.services import notes as note_services
from cases.services import referrals as referral_services
from cases.services import youth as youth_services

from .factories import accept_referral, create_referral

ROLES = [
    "anonymous",
    "lead_worker",
    "lead_supervisor",
    "other_worker",
    "part_supervisor",
    "part_worker",
    "outsider",
    "mdt_member",
    "agency_admin",
    "auditor",
    "system_admin",
]
CASE_ROLES = {"lead_worker", "lead_supervisor", "other_worker", "part_supervisor", "part_worker", "outsider"}
SEES_CASE = {"lead_worker", "lead_supervisor", "part_supervisor", "part_worker"}


def expect(ok: int, *, sees: set[str] = CASE_ROLES, **by_role: int) -> dict[str, int]:
    """`ok` for the roles that may act, 404 for case roles that may not see, 403 for roles
    without case access (404 on object paths, below), 401 anonymous; `by_role` overrides."""
    table = {}
    for role in ROLES:
        if role == "anonymous":
            table[role] = 401
        elif role not in CASE_ROLES:
            table[role] = 403
        else:
            table[role] = ok if role in sees else 404
    table.update(by_role)
    return table


LEAD_ONLY = {"lead_supervisor": 200, "lead_worker": 403, "part_supervisor": 403, "part_worker": 403}
REFERRAL_SEES = {"lead_worker", "lead_supervisor"}
DECIDE = expect(200, sees=REFERRAL_SEES, lead_worker=403)
LATER = (timezone.now() + dt.timedelta(days=2)).isoformat()

NEW_REFERRAL = {
    "youth": {"first_name": "Nova", "last_name": "Quinn", "date_of_birth": "2011-05-05"},
    "received_at": "2026-03-01T10:00:00-08:00",
    "source": "school",
    "indicators": [],
}

#: name: (method, path, state, body, table)
OPERATIONS: dict[str, tuple[str, str, str, Any, dict[str, int]]] = {
    "youth-list": ("get", "/api/v1/youth/", "", None, expect(200)),
    "youth-create": ("post", "/api/v1/youth/", "", {"first_name": "Nova", "last_name": "Quinn"}, expect(201)),
    "youth-detail": ("get", "/api/v1/youth/{youth}/", "", None, expect(200, sees=SEES_CASE)),
    # SPEC §1: the youth of an open case is edited by the lead agency's case team and supervisors.
    "youth-patch": (
        "patch",
        "/api/v1/youth/{youth}/",
        "",
        {"pronouns": "she/her"},
        expect(200, sees=SEES_CASE, part_supervisor=403, part_worker=403),
    ),
    "youth-matches": ("get", "/api/v1/youth/matches/?first_name=Jasmine&last_name=Carter", "", None, expect(200)),
    "youth-merge": (
        "post",
        "/api/v1/youth/{pending_youth}/merge/",
        "",
        {"into": "{youth}"},
        expect(200, sees=REFERRAL_SEES, lead_worker=403),
    ),
    "youth-unmerge": (
        "post",
        "/api/v1/youth/{pending_youth}/unmerge/",
        "merged",
        None,
        expect(200, sees=REFERRAL_SEES, lead_worker=403),
    ),
    "referral-list": ("get", "/api/v1/referrals/", "", None, expect(200)),
    "referral-create": ("post", "/api/v1/referrals/", "", NEW_REFERRAL, expect(201)),
    "referral-detail": ("get", "/api/v1/referrals/{pending}/", "", None, expect(200, sees=REFERRAL_SEES)),
    "referral-patch": (
        "patch",
        "/api/v1/referrals/{pending}/",
        "",
        {"narrative": "Updated synthetic."},
        # SPEC §1: its creator until it is decided (the receiving supervisors only after).
        expect(200, sees=REFERRAL_SEES, lead_supervisor=403),
    ),
    "referral-screen": (
        "post",
        "/api/v1/referrals/{pending}/screen/",
        "",
        {"level": "possible_concern", "instrument": "CSE-IT"},
        DECIDE,
    ),
    "referral-accept": ("post", "/api/v1/referrals/{pending}/accept/", "screened", None, DECIDE),
    "referral-decline": ("post", "/api/v1/referrals/{pending}/decline/", "", {"reason": "Synthetic reason"}, DECIDE),
    "referral-mark-duplicate": ("post", "/api/v1/referrals/{pending}/mark-duplicate/", "", {}, DECIDE),
    "case-list": ("get", "/api/v1/cases/", "", None, expect(200)),
    "case-detail": ("get", "/api/v1/cases/{case}/", "", None, expect(200, sees=SEES_CASE)),
    "case-patch": (
        "patch",
        "/api/v1/cases/{case}/",
        "",
        {"csec_status": "identified"},
        expect(200, sees=SEES_CASE, part_supervisor=403, part_worker=403),
    ),
    "case-close": (
        "post",
        "/api/v1/cases/{case}/close/",
        "returned",  # SPEC §2: a case does not close while the youth is missing
        {"reason": "Synthetic"},
        expect(200, sees=SEES_CASE, **LEAD_ONLY),
    ),
    "case-reopen": (
        "post",
        "/api/v1/cases/{case}/reopen/",
        "closed",
        {"reason": "Synthetic"},
        expect(200, sees=SEES_CASE, **LEAD_ONLY),
    ),
    "team-list": ("get", "/api/v1/cases/{case}/team/", "", None, expect(200, sees=SEES_CASE)),
    "team-add": (
        "post",
        "/api/v1/cases/{case}/team/",
        "",
        {"user": "{other_worker}", "role": "social_worker"},
        expect(201, sees=SEES_CASE, lead_worker=403, part_supervisor=403, part_worker=403),
    ),
    "team-remove": (
        "delete",
        "/api/v1/cases/{case}/team/{member}/",
        "",
        None,
        expect(200, sees=SEES_CASE, **LEAD_ONLY),
    ),
    "agencies-list": ("get", "/api/v1/cases/{case}/agencies/", "", None, expect(200, sees=SEES_CASE)),
    "agencies-grant": (
        "post",
        "/api/v1/cases/{case}/agencies/",
        "",
        {"agency": "PROBATION", "legal_basis": "mdt_18961_7"},
        expect(201, sees=SEES_CASE, lead_worker=403, part_supervisor=403, part_worker=403),
    ),
    "agency-renew": (
        "post",
        "/api/v1/cases/{case}/agencies/DMH/renew/",
        "",
        {"good_cause": "Synthetic", "expires_at": LATER},
        expect(200, sees=SEES_CASE, **LEAD_ONLY),
    ),
    "agency-revoke": (
        "post",
        "/api/v1/cases/{case}/agencies/DMH/revoke/",
        "",
        None,
        expect(200, sees=SEES_CASE, **LEAD_ONLY),
    ),
    "notes-list": ("get", "/api/v1/cases/{case}/notes/", "", None, expect(200, sees=SEES_CASE)),
    "notes-add": (
        "post",
        "/api/v1/cases/{case}/notes/",
        "",
        {"body": "Synthetic", "visibility": "team"},
        expect(201, sees=SEES_CASE),
    ),
    "note-detail": ("get", "/api/v1/cases/{case}/notes/{note}/", "", None, expect(200, sees=SEES_CASE)),
    "episodes-list": ("get", "/api/v1/cases/{case}/missing-episodes/", "", None, expect(200, sees=SEES_CASE)),
    "episodes-add": (
        "post",
        "/api/v1/cases/{case}/missing-episodes/",
        "",
        {"missing_since": "2026-02-01T20:00:00Z", "learned_at": "2026-02-01T22:00:00Z"},
        expect(201, sees=SEES_CASE),
    ),
    "episode-detail": ("get", "/api/v1/missing-episodes/{episode}/", "", None, expect(200, sees=SEES_CASE)),
    "episode-patch": (
        "patch",
        "/api/v1/missing-episodes/{episode}/",
        "",
        {"ncic_number": "M1"},
        expect(200, sees=SEES_CASE),
    ),
    "placements-list": ("get", "/api/v1/cases/{case}/placements/", "", None, expect(200, sees=SEES_CASE)),
    "placements-add": (
        "post",
        "/api/v1/cases/{case}/placements/",
        "",
        {"placement_type": "shelter", "start_date": "2026-02-01"},
        expect(201, sees=SEES_CASE),
    ),
    "services-list": ("get", "/api/v1/cases/{case}/services/", "", None, expect(200, sees=SEES_CASE)),
    "services-add": (
        "post",
        "/api/v1/cases/{case}/services/",
        "",
        {"provider": "Clinic", "referred_at": "2026-02-01T20:00:00Z"},
        expect(201, sees=SEES_CASE),
    ),
    "hearings-list": ("get", "/api/v1/cases/{case}/hearings/", "", None, expect(200, sees=SEES_CASE)),
    "hearings-add": (
        "post",
        "/api/v1/cases/{case}/hearings/",
        "",
        {"starts_at": "2026-02-10T17:00:00Z", "hearing_type": "review"},
        expect(201, sees=SEES_CASE),
    ),
    "alerts-list": ("get", "/api/v1/cases/{case}/alerts/", "", None, expect(200, sees=SEES_CASE)),
    "alerts-add": (
        "post",
        "/api/v1/cases/{case}/alerts/",
        "",
        {"kind": "safety_risk", "summary": "Synthetic"},
        expect(201, sees=SEES_CASE),
    ),
    "timeline": ("get", "/api/v1/cases/{case}/timeline/", "", None, expect(200, sees=SEES_CASE)),
    "history": ("get", "/api/v1/cases/{case}/history/", "", None, expect(200, sees=SEES_CASE)),
    # SPEC §9: who read the case's records — the lead agency's supervisors only.
    "readers": ("get", "/api/v1/cases/{case}/readers/", "", None, expect(200, sees=SEES_CASE, **LEAD_ONLY)),
}

# A path naming an object answers 404 to a role without case access (no hint that it exists);
# a collection path answers 403 (the role itself is refused).
for _method, _path, _state, _body, _table in OPERATIONS.values():
    if "{" in _path:
        _table.update({role: 404 for role in ROLES if role not in CASE_ROLES and role != "anonymous"})

ROWS = [(op, role, table[role]) for op, (_, _, _, _, table) in OPERATIONS.items() for role in ROLES]
PREFIXES = ("/api/v1/youth/", "/api/v1/referrals/", "/api/v1/cases/", "/api/v1/missing-episodes/")


@pytest.fixture
def world(people):  # type: ignore[no-untyped-def]
    case = accept_referral(create_referral(people.sheriff_case_worker), people.dcfs_supervisor)
    member = case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.dmh_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dmh_case_worker, case_role="clinician"
    )
    pending = create_referral(people.dcfs_case_worker, youth_data={"first_name": "Jazmin"})
    note = note_services.case_note_add(case=case, actor=people.dcfs_case_worker, body="Synthetic", visibility="team")
    now = timezone.now()
    episode = episode_services.missing_episode_create(
        case=case, actor=people.dcfs_case_worker, missing_since=now, learned_at=now
    )
    return SimpleNamespace(case=case, member=member, pending=pending, note=note, episode=episode)


def _bring_to(state: str, world: Any, people: Any) -> None:
    if state == "screened":
        referral_services.referral_screen(
            referral=world.pending, actor=people.dcfs_supervisor, level="possible_concern", instrument="CSE-IT"
        )
    if state == "merged":
        youth_services.youth_merge(source=world.pending.youth, target=world.case.youth, actor=people.dcfs_supervisor)
    if state in ("returned", "closed"):
        episode_services.missing_episode_update(
            episode=world.episode, actor=people.dcfs_supervisor, data={"returned_at": timezone.now()}
        )
    if state == "closed":
        case_services.case_close(case=world.case, actor=people.dcfs_supervisor, reason="Synthetic")


def _user(role: str, people: Any) -> Any:
    return {
        "anonymous": None,
        "lead_worker": people.dcfs_case_worker,
        "lead_supervisor": people.dcfs_supervisor,
        "other_worker": people.dcfs_worker2,
        "part_supervisor": people.dmh_supervisor,
        "part_worker": people.dmh_case_worker,
        "outsider": people.probation_supervisor,
        "mdt_member": people.dcfs_mdt_member,
        "agency_admin": people.dcfs_agency_admin,
        "auditor": people.dcfs_auditor,
        "system_admin": people.system_admin,
    }[role]


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return names[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "role", "expected"), ROWS, ids=[f"{op}-{role}" for op, role, _ in ROWS])
def test_authorization_matrix(operation, role, expected, world, people, make_client):  # type: ignore[no-untyped-def]
    # given
    method, path, state, body, _ = OPERATIONS[operation]
    _bring_to(state, world, people)
    names = {
        "case": world.case.pk,
        "youth": world.case.youth_id,
        "pending": world.pending.pk,
        "pending_youth": world.pending.youth_id,
        "member": world.member.pk,
        "note": world.note.pk,
        "episode": world.episode.pk,
        "other_worker": people.dcfs_worker2.pk,
    }
    user = _user(role, people)
    client = APIClient() if user is None else make_client(user)
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
    if expected < 300 and user is not None:
        assert AuditEvent.objects.filter(actor_id=user.pk).count() > before, (operation, role)
    if expected == 404:
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_every_cases_operation_of_the_schema_is_in_the_matrix():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    in_schema = {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith(PREFIXES)
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = set()
    for method, path, *_ in OPERATIONS.values():
        generic = path.split("?")[0]
        for name in ("case", "youth", "pending", "pending_youth", "episode"):
            generic = generic.replace("{" + name + "}", "{id}")
        generic = (
            generic.replace("{member}", "{member_id}")
            .replace("{note}", "{note_id}")
            .replace("/DMH/", "/{agency_code}/")
        )
        covered.add((method, generic))
    missing = in_schema - covered
    assert not missing, f"cases operations without authorization rows: {sorted(missing)}"
    assert covered <= in_schema, sorted(covered - in_schema)
