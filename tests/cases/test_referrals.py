"""Referrals: creation (existing or inline youth), screening, the status machine, ETag / If-Match."""

from __future__ import annotations

import re

import pytest

from audit.models import AuditEvent
from cases.models import Case, CaseAgency, CaseTeamMember, Referral

from .factories import accept_referral, create_referral, create_youth

pytestmark = pytest.mark.django_db


def referral_body(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "youth": {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": "2010-03-14", "aliases": ["Jazzy"]},
        "received_at": "2026-03-01T10:00:00-08:00",
        "source": "law_enforcement_recovery",
        "recovered_at": "2026-03-01T09:30:00-08:00",
        "indicators": ["runaway_or_homeless", "tattoos_or_branding"],
        "narrative": "Synthetic narrative.",
    }
    body.update(overrides)
    return body


def test_create_with_inline_youth_defaults_to_dcfs_and_reports_duplicates_block(people, as_user):
    # given
    deputy = as_user(people.sheriff_case_worker)
    # when
    response = deputy.post("/api/v1/referrals/", referral_body(), format="json")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["referring_agency"] == "SHERIFF"
    assert body["receiving_agency"] == "DCFS"
    assert body["status"] == "received"
    assert body["screening"] is None
    assert body["suggested_level"] == "clear_concern"
    assert body["possible_duplicates"] == []
    assert body["case"] is None
    assert re.match(r"^2026-03-01T10:00:00-08:00$", body["received_at"])
    referral = Referral.objects.get(pk=body["id"])
    assert referral.youth.aliases == ["Jazzy"]
    assert AuditEvent.objects.filter(
        action="create", object_type="referral", object_id=str(referral.pk), youth_id=referral.youth_id
    ).exists()


def test_create_with_existing_youth_id_only_if_visible(people, as_user):
    # given
    youth = create_youth(people.dcfs_case_worker)
    # when: the creator uses it
    own = as_user(people.dcfs_case_worker).post("/api/v1/referrals/", referral_body(youth=youth.pk), format="json")
    # and a worker who cannot see it tries the same id
    other = as_user(people.probation_case_worker).post(
        "/api/v1/referrals/", referral_body(youth=youth.pk), format="json"
    )
    missing = as_user(people.probation_case_worker).post(
        "/api/v1/referrals/", referral_body(youth=999999), format="json"
    )
    # then
    assert own.status_code == 201
    assert own.json()["youth"] == youth.pk
    assert other.status_code == 400
    assert missing.status_code == 400
    assert other.json()["errors"]["youth"] == [
        m.replace("999999", str(youth.pk)) for m in missing.json()["errors"]["youth"]
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"youth": "nonsense"}, "youth"),
        ({"youth": {"first_name": "A"}}, "youth"),
        ({"source": "rumour"}, "source"),
        ({"indicators": ["not_a_code"]}, "indicators"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"receiving_agency": "NOPE"}, "receiving_agency"),
        ({"youth": True}, "youth"),
        ({"youth": {"first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01"}}, "youth"),
    ],
)
def test_bad_input_is_400_with_field_messages(people, as_user, body, field):
    response = as_user(people.sheriff_case_worker).post("/api/v1/referrals/", referral_body(**body), format="json")
    assert response.status_code == 400
    # nested fields are named by their path, e.g. `youth.last_name`
    assert any(name == field or name.startswith(f"{field}.") for name in response.json()["errors"])


def test_screen_accept_opens_case_with_the_receiving_agency_as_lead_and_shares_nothing(people, as_user):
    # given
    referral = create_referral(people.sheriff_case_worker, source="law_enforcement_recovery")
    supervisor = as_user(people.dcfs_supervisor)
    # when
    screened = supervisor.post(
        f"/api/v1/referrals/{referral.pk}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"}, format="json"
    )
    accepted = supervisor.post(f"/api/v1/referrals/{referral.pk}/accept/", format="json")
    # then
    assert screened.status_code == 200, screened.json()
    assert screened.json()["screening"]["level"] == "clear_concern"
    assert screened.json()["screening"]["suggested_level"] == "clear_concern"
    assert screened.json()["status"] == "screening"
    assert accepted.status_code == 200, accepted.json()
    case = Case.objects.get(pk=accepted.json()["case"])
    assert re.fullmatch(r"H-\d{4}-\d{6}", case.number)
    assert case.lead_agency.code == "DCFS"
    # SPEC §1 "Sharing has one door": the referring agency keeps sight of its referral only, and
    # its worker joins the team only if their agency leads the case.
    participations = {p.agency.code: p for p in CaseAgency.objects.filter(case=case)}
    assert {code: p.legal_basis for code, p in participations.items()} == {"DCFS": "lead"}
    assert not CaseTeamMember.objects.filter(case=case, user=people.sheriff_case_worker).exists()
    detail = supervisor.get(f"/api/v1/cases/{case.pk}/").json()
    assert {k: detail[k] for k in ("number", "lead_agency", "status", "court")} == {
        "number": case.number,
        "lead_agency": "DCFS",
        "status": "open",
        "court": "",
    }


def test_accept_links_to_the_youth_open_case(people):
    # given
    first = create_referral(people.sheriff_case_worker)
    case = accept_referral(first, people.dcfs_supervisor)
    second = create_referral(people.probation_case_worker, youth=first.youth)
    # when
    linked = accept_referral(second, people.dcfs_supervisor)
    # then
    assert linked.pk == case.pk
    # linking shares nothing with the referring agencies (SPEC §1 "Sharing has one door")
    assert set(CaseAgency.objects.filter(case=case).values_list("agency__code", flat=True)) == {"DCFS"}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("accept", {}),
        ("decline", {"reason": "x"}),
        ("mark-duplicate", {}),
        ("screen", {"level": "no_concern", "instrument": "x"}),
    ],
)
def test_only_receiving_supervisors_decide(people, as_user, action, body):
    # given: the referral is visible to its creator and the referring agency's supervisor
    referral = create_referral(people.sheriff_case_worker)
    # when
    creator = as_user(people.sheriff_case_worker).post(
        f"/api/v1/referrals/{referral.pk}/{action}/", body, format="json"
    )
    referring_sup = as_user(people.sheriff_supervisor).post(
        f"/api/v1/referrals/{referral.pk}/{action}/", body, format="json"
    )
    stranger = as_user(people.probation_supervisor).post(
        f"/api/v1/referrals/{referral.pk}/{action}/", body, format="json"
    )
    # then
    assert creator.status_code == 403
    assert referring_sup.status_code == 403
    assert stranger.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "received"
    # every refusal is audited: the two 403s and the stranger's 404
    denied = AuditEvent.objects.filter(action="permission_denied", object_id=str(referral.pk))
    assert sorted(e.detail["status"] for e in denied) == [403, 403, 404]


def test_transitions_not_allowed_now_answer_409_and_change_nothing(people, as_user):
    # given
    referral = create_referral(people.sheriff_case_worker)
    supervisor = as_user(people.dcfs_supervisor)
    # when: accepting before screening
    early = supervisor.post(f"/api/v1/referrals/{referral.pk}/accept/")
    declined = supervisor.post(
        f"/api/v1/referrals/{referral.pk}/decline/", {"reason": "Not CSEC-related"}, format="json"
    )
    again = supervisor.post(f"/api/v1/referrals/{referral.pk}/accept/")
    dup = supervisor.post(f"/api/v1/referrals/{referral.pk}/mark-duplicate/")
    screen = supervisor.post(
        f"/api/v1/referrals/{referral.pk}/screen/", {"level": "no_concern", "instrument": "x"}, format="json"
    )
    # then
    assert early.status_code == 409
    assert declined.status_code == 200
    assert declined.json()["decline_reason"] == "Not CSEC-related"
    assert (again.status_code, dup.status_code, screen.status_code) == (409, 409, 409)
    referral.refresh_from_db()
    assert referral.status == "declined"
    assert not Case.objects.exists()


def test_decline_needs_a_reason(people, as_user):
    referral = create_referral(people.sheriff_case_worker)
    response = as_user(people.dcfs_supervisor).post(f"/api/v1/referrals/{referral.pk}/decline/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_mark_duplicate_of_a_visible_referral(people, as_user):
    first = create_referral(people.sheriff_case_worker)
    second = create_referral(people.sheriff_case_worker, youth=first.youth)
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/referrals/{second.pk}/mark-duplicate/", {"duplicate_of": first.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert response.json()["duplicate_of"] == first.pk


def test_patch_with_stale_if_match_is_412_and_changes_nothing(people, as_user):
    # given
    referral = create_referral(people.sheriff_case_worker)
    deputy = as_user(people.sheriff_case_worker)
    etag = deputy.get(f"/api/v1/referrals/{referral.pk}/")["ETag"]
    first = deputy.patch(
        f"/api/v1/referrals/{referral.pk}/", {"narrative": "Updated."}, format="json", HTTP_IF_MATCH=etag
    )
    # when
    stale = deputy.patch(
        f"/api/v1/referrals/{referral.pk}/", {"narrative": "Lost update."}, format="json", HTTP_IF_MATCH=etag
    )
    # then
    assert first.status_code == 200
    assert first["ETag"] != etag
    assert stale.status_code == 412
    referral.refresh_from_db()
    assert referral.narrative == "Updated."


def test_patch_by_someone_who_sees_but_may_not_edit_is_403(people, as_user):
    referral = create_referral(people.sheriff_case_worker)
    case = accept_referral(referral, people.dcfs_supervisor)
    from cases.services import cases as case_services

    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.probation_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.probation_case_worker, case_role="probation_officer"
    )
    response = as_user(people.probation_case_worker).patch(
        f"/api/v1/referrals/{referral.pk}/", {"narrative": "x"}, format="json"
    )
    assert response.status_code == 403


def test_suggested_level_follows_indicators(people, as_user):
    referral = create_referral(people.sheriff_case_worker, indicators=[], source="school")
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/referrals/{referral.pk}/screen/", {"level": "possible_concern", "instrument": "CSE-IT"}, format="json"
    )
    assert response.json()["screening"] == response.json()["screening"] | {
        "level": "possible_concern",
        "suggested_level": "no_concern",
    }
