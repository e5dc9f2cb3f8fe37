"""Writable relation fields and mass assignment (SPEC §1, §6), against the matrix's world.

- Every writable relation field of a request body (a case, youth, referral, note, user, team,
  meeting, agenda item or agency it names) answers 400 or 404 when it names an object the
  caller cannot see (or one that does not exist), and writes nothing. A test fails when the
  schema has a relation field no case below covers.
- Fields that are not writable (ids, authors, owners, the lead or holding agency, numbers,
  statuses set by transitions) sent anyway change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps

from audit.models import AuditEvent

from .drive import call, client_for, fill, last_event_id, names_for
from .matrix import ROLES_BY_KEY, Op, schema_operations
from .world import World, ring

#: Body fields that name another object.
RELATION_FIELDS = {
    "case", "youth", "referral", "meeting", "assignee", "agency", "user", "team", "items", "into",
    "duplicate_of", "corrects", "presenting_agency", "receiving_agency", "external_ids",
}
WRITE_ACTIONS = {"create", "update", "delete", "transition", "access_change"}
NOPE = "NOPE"  # no such agency
MISSING = 2**31 - 7  # no such id


def extra_names(world: World, role_key: str, scope: str = "own") -> dict[str, Any]:
    role = ROLES_BY_KEY[role_key]
    names = names_for(world, role, scope)
    home, other = role.home, ring(role.home, 1)
    names.update(
        home_agency=world.case[home].lead_agency_id,
        other_case=world.case[other].pk,
        other_youth=world.case[other].youth_id,
        other_pending=world.pending[(other, "duplicate")].pk,
        own_pending_duplicate=world.pending[(home, "duplicate")].pk,
        own_merge_youth=world.pending[(home, "merge")].youth_id,
        clinical_note=world.clinical_note.pk,
        other_agency_user=world.user(f"{other.lower()}_case_worker").pk,
        # of the agency that never shared the caller's own case
        outsider=world.user(f"{ring(home, -1).lower()}_case_worker").pk,
        off_team_user=world.user("dcfs_case_worker").pk,
        star_meeting=world.meetings["STAR"].pk,
        star_item=world.items["STAR"].pk,
        star_action=world.actions["STAR"].pk,
        star_case=world.items["STAR"].case_id,
        dream_meeting=world.meetings["DREAM"].pk,
        dream_item=world.items["DREAM"].pk,
        dream_case=world.items["DREAM"].case_id,
        dream_team=world.teams["DREAM"].pk,
        star_team=world.teams["STAR"].pk,
        clerk=world.user(f"{home.lower()}_clerk").pk,
        dream_coordinator=world.user("dream_coordinator").pk,
        missing=MISSING,
        nope=NOPE,
    )
    return names


# --- relation fields -----------------------------------------------------------------------------


@dataclass
class Relation:
    role: str
    method: str
    path: str
    params: dict[str, str]
    field: str
    body: dict[str, Any]
    model: str  # what must not change: its row count, or the `watch` fields of one row
    watch: tuple[str, tuple[str, ...]] | None = None  # (name of the row's id, fields)

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path} {self.field}"


ACTION = {"description": "Synthetic task", "agency": "PROBATION", "due_at": "{in_20_days}"}
REFERRAL = {"received_at": "{now}", "source": "school", "indicators": []}
YOUTH = {"first_name": "Matrixrel", "last_name": "Youthrel"}
AGENDA = {"reason": "court_date"}

RELATIONS = [
    # court MDT: a case, meeting or person outside the caller's team; an unknown agency
    Relation("STAR.mdt_member", "post", "/api/v1/action-items/", {}, "case",
             {**ACTION, "case": "{dream_case}"}, "mdt.ActionItem"),
    Relation("STAR.mdt_member", "post", "/api/v1/action-items/", {}, "meeting",
             {**ACTION, "case": "{star_case}", "meeting": "{dream_meeting}"}, "mdt.ActionItem"),
    Relation("STAR.mdt_member", "post", "/api/v1/action-items/", {}, "assignee",
             {**ACTION, "case": "{star_case}", "assignee": "{off_team_user}", "agency": "DCFS"}, "mdt.ActionItem"),
    Relation("STAR.mdt_member", "post", "/api/v1/action-items/", {}, "agency",
             {**ACTION, "case": "{star_case}", "agency": "{nope}"}, "mdt.ActionItem"),
    Relation("STAR.coordinator", "patch", "/api/v1/action-items/{id}/", {"id": "star_action"}, "assignee",
             {"assignee": "{off_team_user}"}, "mdt.ActionItem", ("star_action", ("assignee_id", "agency_id"))),
    Relation("STAR.coordinator", "patch", "/api/v1/action-items/{id}/", {"id": "star_action"}, "agency",
             {"agency": "{nope}"}, "mdt.ActionItem", ("star_action", ("assignee_id", "agency_id"))),
    Relation("STAR.coordinator", "post", "/api/v1/mdt/meetings/{id}/items/", {"id": "star_meeting"}, "case",
             {**AGENDA, "case": "{dream_case}"}, "mdt.AgendaItem"),
    Relation("STAR.coordinator", "post", "/api/v1/mdt/meetings/{id}/items/", {"id": "star_meeting"},
             "presenting_agency", {**AGENDA, "case": "{extra_case}", "presenting_agency": "{nope}"}, "mdt.AgendaItem"),
    Relation("STAR.coordinator", "patch", "/api/v1/mdt/items/{id}/", {"id": "star_item"}, "presenting_agency",
             {"presenting_agency": "{nope}"}, "mdt.AgendaItem", ("star_item", ("presenting_agency_id",))),
    Relation("STAR.coordinator", "post", "/api/v1/mdt/meetings/{id}/items/reorder/", {"id": "star_meeting"},
             "items", {"items": ["{dream_item}"]}, "mdt.AgendaItem", ("star_item", ("position", "meeting_id"))),
    Relation("STAR.coordinator", "post", "/api/v1/mdt/meetings/{id}/attendance/", {"id": "star_meeting"}, "user",
             {"user": "{missing}", "present": True}, "mdt.Attendance"),
    Relation("STAR.coordinator", "post", "/api/v1/mdt/meetings/{id}/attendance/", {"id": "star_meeting"}, "agency",
             {"user": "{attendee}", "present": True, "agency": "{nope}"}, "mdt.Attendance"),
    Relation("STAR.coordinator", "post", "/api/v1/mdt/meetings/", {}, "team",
             {"team": "{missing}", "starts_at": "{in_20_days}", "ends_at": "{in_20_days_2h}"}, "mdt.Meeting"),
    Relation("system_admin", "post", "/api/v1/mdt/teams/{id}/members/", {"id": "star_team"}, "user",
             {"user": "{missing}"}, "mdt.TeamMembership"),
    # cases: a youth, referral, note or person of a case the caller does not see
    Relation("DCFS.case_worker", "post", "/api/v1/referrals/", {}, "youth",
             {**REFERRAL, "youth": "{other_youth}"}, "cases.Referral"),
    Relation("DCFS.case_worker", "post", "/api/v1/referrals/", {}, "receiving_agency",
             {**REFERRAL, "youth": "{own_youth}", "receiving_agency": "{nope}"}, "cases.Referral"),
    Relation("DCFS.supervisor", "post", "/api/v1/referrals/{id}/mark-duplicate/", {"id": "own_pending_duplicate"},
             "duplicate_of", {"duplicate_of": "{other_pending}"}, "cases.Referral",
             ("own_pending_duplicate", ("status", "duplicate_of_id"))),
    # SPEC §2: accepting links to a youth the supervisor may see; another answers as an unknown id
    Relation("DCFS.supervisor", "post", "/api/v1/referrals/{id}/accept/", {"id": "own_pending_duplicate"},
             "youth", {"youth": "{other_youth}"}, "cases.Referral",
             ("own_pending_duplicate", ("status", "youth_id", "case_id"))),
    Relation("DCFS.supervisor", "post", "/api/v1/youth/{id}/merge/", {"id": "own_merge_youth"}, "into",
             {"into": "{other_youth}"}, "cases.YouthMerge"),
    Relation("DCFS.case_worker", "post", "/api/v1/youth/", {}, "external_ids",
             {**YOUTH, "external_ids": [{"agency": "{nope}", "value": "X-1"}]}, "cases.Youth"),
    Relation("DCFS.case_worker", "patch", "/api/v1/youth/{id}/", {"id": "own_youth"}, "external_ids",
             {"external_ids": [{"agency": "{nope}", "value": "X-1"}]}, "cases.YouthExternalId"),
    Relation("DCFS.case_worker", "post", "/api/v1/cases/{id}/notes/", {"id": "case"}, "corrects",
             {"body": "Synthetic", "visibility": "clinical", "corrects": "{clinical_note}"}, "cases.Note"),
    Relation("DCFS.supervisor", "post", "/api/v1/cases/{id}/team/", {"id": "case"}, "user",
             {"user": "{outsider}", "role": "partner"}, "cases.CaseTeamMember"),
    Relation("DCFS.supervisor", "post", "/api/v1/cases/{id}/agencies/", {"id": "case"}, "agency",
             {"agency": "{nope}", "legal_basis": "court_mdt"}, "cases.CaseAgency"),
    # users: an agency admin names another agency
    Relation("DCFS.agency_admin", "post", "/api/v1/users/", {}, "agency",
             {"username": "matrix_rel", "email": "rel@example.invalid", "agency": "PROBATION", "role": "case_worker"},
             "accounts.User"),
    Relation("DCFS.agency_admin", "patch", "/api/v1/users/{id}/", {"id": "clerk"}, "agency",
             {"agency": "PROBATION"}, "accounts.User", ("clerk", ("agency_id", "role"))),
]


def _snapshot(relation: Relation | Any, names: dict[str, Any]) -> Any:
    model = apps.get_model(relation.model)
    if relation.watch is None:
        return model.objects.count()
    name, fields = relation.watch
    return model.objects.filter(pk=names[name]).values(*fields).get()


@pytest.mark.django_db
@pytest.mark.parametrize("relation", RELATIONS, ids=[r.id for r in RELATIONS])
def test_a_relation_to_an_object_the_caller_cannot_see_writes_nothing(relation, world):  # type: ignore[no-untyped-def]
    # given
    role = ROLES_BY_KEY[relation.role]
    names = extra_names(world, relation.role)
    op = Op(relation.method, relation.path, ("-",), body=relation.body, params=relation.params)
    before, after = _snapshot(relation, names), last_event_id()
    # when
    response = call(client_for(world.tokens[role.username]), op, names)
    # then
    assert response.status_code in {400, 404}, (relation.id, response.status_code, response.content[:300])
    assert _snapshot(relation, names) == before, relation.id
    written = AuditEvent.objects.filter(id__gt=after, action__in=WRITE_ACTIONS)
    assert not written.exists(), (relation.id, list(written.values("action", "object_type")))


def test_every_relation_field_of_the_schema_has_a_case():  # type: ignore[no-untyped-def]
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    in_schema = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ref = body.get("$ref", "")
            properties = components[ref.rsplit("/", 1)[-1]].get("properties", {}) if ref else {}
            for name, spec in properties.items():
                if name in RELATION_FIELDS and not spec.get("readOnly"):
                    in_schema.add((method.upper(), path, name))
    covered = {(r.method.upper(), r.path, r.field) for r in RELATIONS}
    assert in_schema - covered == set(), sorted(in_schema - covered)
    assert {(m, p) for m, p, _ in covered} <= schema_operations()


# --- mass assignment -----------------------------------------------------------------------------


@dataclass
class Mass:
    role: str
    method: str
    path: str
    params: dict[str, str]
    body: dict[str, Any]
    model: str
    #: the row to look at: a world name, or "created" (the id in the answer)
    row: str
    #: field -> expected value ("=": as before the request; "{name}": a world name; else literal)
    expect: dict[str, Any] = field(default_factory=dict)
    statuses: frozenset[int] = frozenset({200, 201, 400})

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path} {self.role}"


#: Not writable anywhere: sending them must change nothing.
FORGED = {"id": "{missing}", "created_by": "{other_agency_user}", "created_at": "2000-01-01T00:00:00Z"}

MASS = [
    Mass("DCFS.supervisor", "patch", "/api/v1/cases/{id}/", {"id": "case"},
         {"csec_status": "identified", **FORGED, "number": "H-1999-000001", "lead_agency": "PROBATION",
          "status": "closed", "youth": "{other_youth}", "agency": "PROBATION"},
         "cases.Case", "case", {"id": "=", "number": "=", "lead_agency_id": "=", "status": "=", "youth_id": "="}),
    Mass("DCFS.supervisor", "patch", "/api/v1/referrals/{id}/", {"id": "referral"},
         {"narrative": "Synthetic", **FORGED, "referring_agency": "PROBATION", "receiving_agency": "PROBATION",
          "status": "declined", "case": "{other_case}", "youth": "{other_youth}"},
         "cases.Referral", "referral",
         {"created_by_id": "=", "referring_agency_id": "=", "receiving_agency_id": "=", "status": "=",
          "case_id": "=", "youth_id": "="}),
    Mass("DCFS.case_worker", "patch", "/api/v1/youth/{id}/", {"id": "own_youth"},
         {"pronouns": "she/her", **FORGED, "holding_agency": "PROBATION", "merged_into": "{other_youth}"},
         "cases.Youth", "own_youth", {"id": "=", "holding_agency_id": "=", "created_by_id": "=", "merged_into_id": "="}),
    Mass("DCFS.case_worker", "post", "/api/v1/youth/", {},
         {**YOUTH, **FORGED, "holding_agency": "PROBATION", "merged_into": "{other_youth}"},
         "cases.Youth", "created", {"holding_agency_id": "{home_agency}", "created_by_id": "{me}", "merged_into_id": None}),
    Mass("DCFS.case_worker", "post", "/api/v1/referrals/", {},
         {**REFERRAL, "youth": "{own_youth}", **FORGED, "referring_agency": "PROBATION", "status": "accepted",
          "case": "{other_case}", "agency": "PROBATION"},
         "cases.Referral", "created",
         {"created_by_id": "{me}", "referring_agency_id": "{home_agency}", "status": "received", "case_id": None}),
    Mass("DCFS.case_worker", "post", "/api/v1/cases/{id}/notes/", {"id": "case"},
         {"body": "Synthetic", "visibility": "team", **FORGED, "author": "{other_agency_user}",
          "author_agency": "DMH", "case": "{other_case}", "agency": "DMH"},
         "cases.Note", "created", {"author_id": "{me}", "author_agency_id": "{home_agency}", "case_id": "{case}"}),
    Mass("DCFS.supervisor", "post", "/api/v1/cases/{id}/team/", {"id": "case"},
         {"user": "{me}", "role": "supervisor", **FORGED, "added_by": "{other_agency_user}", "case": "{other_case}"},
         "cases.CaseTeamMember", "created", {"added_by_id": "{me}", "case_id": "{case}", "user_id": "{me}"}),
    Mass("DCFS.supervisor", "post", "/api/v1/cases/{id}/agencies/", {"id": "case"},
         {"agency": "{grantable}", "legal_basis": "mdt_18961_7", **FORGED, "granted_by": "{other_agency_user}",
          "case": "{other_case}", "revoked_at": "2000-01-01T00:00:00Z"},
         "cases.CaseAgency", "created", {"granted_by_id": "{me}", "case_id": "{case}", "revoked_at": None}),
    Mass("DCFS.case_worker", "post", "/api/v1/cases/{id}/missing-episodes/", {"id": "case"},
         {"missing_since": "{hours_ago_3}", "learned_at": "{hours_ago_2}", **FORGED, "case": "{other_case}"},
         "cases.MissingEpisode", "created", {"created_by_id": "{me}", "case_id": "{case}"}),
    Mass("DCFS.case_worker", "patch", "/api/v1/missing-episodes/{id}/", {"id": "episode"},
         {"ncic_number": "M1", **FORGED, "case": "{other_case}"},
         "cases.MissingEpisode", "episode", {"id": "=", "created_by_id": "=", "case_id": "="}),
    Mass("DCFS.case_worker", "post", "/api/v1/cases/{id}/placements/", {"id": "case"},
         {"placement_type": "shelter", "start_date": "2026-02-01", **FORGED, "case": "{other_case}"},
         "cases.Placement", "created", {"created_by_id": "{me}", "case_id": "{case}"}),
    Mass("DCFS.case_worker", "post", "/api/v1/cases/{id}/alerts/", {"id": "case"},
         {"kind": "safety_risk", "summary": "Synthetic", **FORGED, "case": "{other_case}"},
         "cases.SafetyAlert", "created", {"created_by_id": "{me}", "case_id": "{case}"}),
    # people: the role, the agency and the superuser flag are an admin's to give, within limits
    Mass("DCFS.agency_admin", "patch", "/api/v1/users/{id}/", {"id": "clerk"},
         {"first_name": "Renamed", **FORGED, "username": "renamed", "is_superuser": True, "is_staff": True,
          "last_login": "2000-01-01T00:00:00Z"},
         "accounts.User", "clerk", {"id": "=", "username": "=", "is_superuser": False, "is_staff": False}),
    Mass("DCFS.agency_admin", "patch", "/api/v1/users/{id}/", {"id": "clerk"},
         {"role": "system_admin"}, "accounts.User", "clerk", {"role": "=", "is_superuser": False},
         frozenset({403})),
    Mass("DCFS.agency_admin", "post", "/api/v1/users/", {},
         {"username": "matrix_mass", "email": "mass@example.invalid", "role": "case_worker", **FORGED,
          "is_superuser": True, "is_staff": True},
         "accounts.User", "created", {"is_superuser": False, "is_staff": False, "agency_id": "{home_agency}"}),
    # court MDT
    Mass("STAR.coordinator", "post", "/api/v1/mdt/meetings/", {},
         {"team": "{star_team}", "starts_at": "{in_20_days}", "ends_at": "{in_20_days_2h}", **FORGED,
          "status": "published", "published_at": "2000-01-01T00:00:00Z"},
         "mdt.Meeting", "created", {"created_by_id": "{me}", "status": "scheduled", "published_at": None}),
    Mass("STAR.coordinator", "patch", "/api/v1/mdt/meetings/{id}/", {"id": "star_meeting"},
         {"location": "Video link", **FORGED, "team": "{dream_team}", "published_at": None, "series": None},
         "mdt.Meeting", "star_meeting", {"id": "=", "team_id": "=", "created_by_id": "=", "published_at": "="}),
    Mass("STAR.coordinator", "patch", "/api/v1/mdt/items/{id}/", {"id": "star_item"},
         {"minutes_allotted": 12, "case": "{dream_case}", "meeting": "{dream_meeting}", "reviewed_by": "{me}",
          "id": "{missing}"},
         "mdt.AgendaItem", "star_item", {"id": "=", "case_id": "=", "meeting_id": "=", "reviewed_by_id": "="}),
    Mass("STAR.mdt_member", "post", "/api/v1/action-items/", {},
         {**ACTION, "case": "{star_case}", "meeting": "{star_meeting}", **FORGED, "team": "{dream_team}"},
         "mdt.ActionItem", "created", {"created_by_id": "{me}", "team_id": "{star_team}"}),
    Mass("STAR.coordinator", "patch", "/api/v1/action-items/{id}/", {"id": "star_action"},
         {"description": "Synthetic", **FORGED, "case": "{dream_case}", "team": "{dream_team}",
          "meeting": "{dream_meeting}"},
         "mdt.ActionItem", "star_action", {"id": "=", "case_id": "=", "team_id": "=", "meeting_id": "=",
                                           "created_by_id": "="}),
    Mass("STAR.coordinator", "post", "/api/v1/mdt/meetings/{id}/attendance/", {"id": "star_meeting"},
         {"user": "{attendee}", "present": True, "recorded_by": "{dream_coordinator}", "meeting": "{dream_meeting}"},
         "mdt.Attendance", "created", {"recorded_by_id": "{me}", "meeting_id": "{star_meeting}"}),
    Mass("DCFS.case_worker", "put", "/api/v1/notification-preferences/", {},
         {"rules": [{"rule": "missing_attorney_24h", "email": False}], "user": "{dream_coordinator}"},
         "notifications.NotificationPreference", "created_for_me", {}),
]


def _expected(value: Any, names: dict[str, Any], before: dict[str, Any], name: str) -> Any:
    if value == "=":
        return before[name]
    return fill(value, names)


@pytest.mark.django_db
@pytest.mark.parametrize("case", MASS, ids=[m.id for m in MASS])
def test_fields_that_are_not_writable_change_nothing(case, world):  # type: ignore[no-untyped-def]
    # given
    role = ROLES_BY_KEY[case.role]
    names = extra_names(world, case.role)
    model = apps.get_model(case.model)
    fields = list(case.expect)
    before = model.objects.filter(pk=names[case.row]).values(*fields).get() if case.row in names else {}
    others_before = model.objects.count()
    op = Op(case.method, case.path, ("-",), body=case.body, params=case.params)
    # when
    response = call(client_for(world.tokens[role.username]), op, names)
    # then
    assert response.status_code in case.statuses, (case.id, response.status_code, response.content[:300])
    if case.row == "created":
        assert response.status_code == 201, (case.id, response.content[:300])
        pk = response.json()["id"]
        assert pk != names["missing"]
        after = model.objects.filter(pk=pk).values(*fields).get()
    elif case.row == "created_for_me":
        # the preferences written are the caller's, never the user named in the body
        assert model.objects.filter(user_id=names["dream_coordinator"]).count() == 0
        assert model.objects.filter(user_id=names["me"]).exists()
        return
    else:
        after = model.objects.filter(pk=names[case.row]).values(*fields).get()
        assert model.objects.count() == others_before
    for name in fields:
        assert after[name] == _expected(case.expect[name], names, before, name), (case.id, name, after[name])
