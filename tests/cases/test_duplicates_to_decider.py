"""Duplicates reach the person who decides (SPEC §2, issue 13): the referral detail carries the
possible duplicates of its youth while it awaits its decision, the supervisor who accepts can
link the referral to an existing youth they may see, and an accept without choosing while an
exact match has an open case says so — driven over HTTP as the screening supervisor would."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from cases.models import Case, CaseAgency, Referral, ShareRequest, Youth
from cases.services import youth as youth_services

from .factories import create_referral, open_case

pytestmark = pytest.mark.django_db

SCREEN = {"level": "clear_concern", "instrument": "CSE-IT"}


def recovery_body(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "youth": {"first_name": "Jasmine", "last_name": "Carter", "date_of_birth": "2010-03-14", "aliases": ["Jazzy"]},
        "received_at": "2026-03-01T10:00:00-08:00",
        "source": "law_enforcement_recovery",
        "recovered_at": "2026-03-01T09:30:00-08:00",
        "indicators": ["runaway_or_homeless"],
        "narrative": "Synthetic narrative.",
    }
    body.update(overrides)
    return body


def sheriff_recovery(people, as_user):  # type: ignore[no-untyped-def]
    """A Sheriff deputy logs a recovery referral to DCFS for a youth typed in again."""
    created = as_user(people.sheriff_case_worker).post("/api/v1/referrals/", recovery_body(), format="json")
    assert created.status_code == 201, created.json()
    return created.json()


def screened(as_user, supervisor, referral_id):  # type: ignore[no-untyped-def]
    answer = as_user(supervisor).post(f"/api/v1/referrals/{referral_id}/screen/", SCREEN, format="json")
    assert answer.status_code == 200, answer.json()


# --- the detail carries the duplicates ---------------------------------------------------------------


def test_the_screening_supervisor_sees_the_duplicate_before_accepting_and_links_to_it(people, as_user):
    # given: DCFS already has an open case for Jasmine, and the Sheriff refers her again as new
    existing = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    referral = sheriff_recovery(people, as_user)
    supervisor = as_user(people.dcfs_supervisor)

    # when: the screening supervisor reads the referral
    detail = supervisor.get(f"/api/v1/referrals/{referral['id']}/")

    # then: the existing record is there, with its score
    assert detail.status_code == 200, detail.json()
    assert detail.json()["possible_duplicates"] == [{"youth": existing.youth_id, "score": 1.0}]
    assert AuditEvent.objects.filter(
        actor_id=people.dcfs_supervisor.pk, action="search", detail__via="referral_detail"
    ).exists()

    # when: they screen and accept, choosing that record
    screened(as_user, people.dcfs_supervisor, referral["id"])
    accepted = supervisor.post(
        f"/api/v1/referrals/{referral['id']}/accept/", {"youth": existing.youth_id}, format="json"
    )

    # then: the referral joins the open case; no second case, nothing to warn of
    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["case"] == existing.pk and body["youth"] == existing.youth_id
    assert body["warnings"] == []
    assert Case.objects.filter(youth_id=existing.youth_id).count() == 1
    assert not Case.objects.filter(youth_id=referral["youth"]).exists()
    # the record the referral was created with stays (a merge brings records together)
    assert Youth.objects.filter(pk=referral["youth"], merged_into__isnull=True).exists()
    # the relink is in the log of both children's records, ids only
    for youth_id in (referral["youth"], existing.youth_id):
        assert AuditEvent.objects.filter(
            object_type="referral", object_id=str(referral["id"]), action="update", youth_id=youth_id
        ).exists()
    assert Referral.history.filter(id=referral["id"], youth_id=existing.youth_id).exists()
    # once decided, the detail searches no more
    assert supervisor.get(f"/api/v1/referrals/{referral['id']}/").json()["possible_duplicates"] is None


def test_accepting_without_choosing_an_exact_match_with_an_open_case_warns(people, as_user):
    # given: the situation of issue 13 — a score-1.0 match with an open case
    existing = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    referral = sheriff_recovery(people, as_user)
    screened(as_user, people.dcfs_supervisor, referral["id"])

    # when: the supervisor accepts without choosing
    accepted = as_user(people.dcfs_supervisor).post(f"/api/v1/referrals/{referral['id']}/accept/", format="json")

    # then: it accepts (a second case), and the answer says so, naming the record
    assert accepted.status_code == 200, accepted.json()
    body = accepted.json()
    assert body["status"] == "accepted" and body["case"] != existing.pk
    [warning] = body["warnings"]
    assert warning["code"] == "possible_duplicate_with_open_case"
    assert (warning["youth"], warning["score"]) == (existing.youth_id, 1.0)
    assert warning["detail"]
    assert AuditEvent.objects.filter(action="search", detail__via="referral_accept").exists()


def test_no_warning_without_an_open_case_or_an_exact_match(people, as_user):
    # given: an exact match whose referral was only logged (no case), and a near one with a case
    create_referral(people.dcfs_case_worker, receiving_agency=people.dcfs_supervisor.agency)
    open_case(people.dcfs_case_worker, people.dcfs_supervisor, youth_data={"first_name": "Jazmin", "aliases": []})
    referral = sheriff_recovery(people, as_user)
    shown = as_user(people.dcfs_supervisor).get(f"/api/v1/referrals/{referral['id']}/").json()
    assert [m["score"] == 1.0 for m in shown["possible_duplicates"]] == [True, False]
    screened(as_user, people.dcfs_supervisor, referral["id"])
    # when
    accepted = as_user(people.dcfs_supervisor).post(f"/api/v1/referrals/{referral['id']}/accept/", format="json")
    # then: both were possible duplicates, neither is the score-1.0-with-an-open-case warning
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["warnings"] == []


def test_a_match_the_supervisor_may_not_see_is_reported_by_agency_only(people, as_user):
    # given: Probation leads an open case for Jasmine, which DCFS does not see
    hidden = open_case(people.probation_case_worker, people.probation_supervisor)
    referral = sheriff_recovery(people, as_user)
    supervisor = as_user(people.dcfs_supervisor)

    # when / then: the detail names the agency to ask, nothing identifying
    detail = supervisor.get(f"/api/v1/referrals/{referral['id']}/")
    assert detail.json()["possible_duplicates"] == [{"agency": "PROBATION"}]
    assert str(hidden.youth_id) not in str(detail.json()["possible_duplicates"])

    # when: the supervisor tries to link to it anyway, by its id
    screened(as_user, people.dcfs_supervisor, referral["id"])
    refused = supervisor.post(f"/api/v1/referrals/{referral['id']}/accept/", {"youth": hidden.youth_id}, format="json")
    absent = supervisor.post(f"/api/v1/referrals/{referral['id']}/accept/", {"youth": 999_999_999}, format="json")

    # then: a record they may not see answers exactly as one that does not exist, and nothing moved
    assert refused.status_code == absent.status_code == 400
    assert refused.json() == absent.json()
    assert "youth" in refused.json()["errors"]
    assert Referral.objects.get(pk=referral["id"]).status == "screening"

    # when: they accept without choosing
    accepted = supervisor.post(f"/api/v1/referrals/{referral['id']}/accept/", format="json")

    # then: the warning names the agency leading that open case, never the record
    [warning] = accepted.json()["warnings"]
    assert warning["agency"] == "PROBATION" and "youth" not in warning and "score" not in warning
    assert str(hidden.youth_id) not in str(accepted.json()["warnings"])


def test_the_referring_worker_sees_the_duplicates_in_the_form_a_create_answers(people, as_user):
    open_case(people.probation_case_worker, people.probation_supervisor)
    referral = sheriff_recovery(people, as_user)
    assert referral["possible_duplicates"] == [{"agency": "PROBATION"}]
    detail = as_user(people.sheriff_case_worker).get(f"/api/v1/referrals/{referral['id']}/")
    assert detail.json()["possible_duplicates"] == referral["possible_duplicates"]


# --- linking: who may, to what -----------------------------------------------------------------------


def test_linking_to_a_case_another_agency_leads_grants_nothing_and_asks_for_a_share(people, as_user):
    # given: a case DMH leads and has shared with DCFS (so the DCFS supervisor sees its youth)
    dmh_case = open_case(people.dmh_case_worker, people.dmh_supervisor)
    as_user(people.dmh_supervisor).post(
        f"/api/v1/cases/{dmh_case.pk}/agencies/",
        {"agency": "DCFS", "legal_basis": "consent", "expires_at": "2099-01-01T00:00:00Z"},
        format="json",
    )
    referral = sheriff_recovery(people, as_user)
    supervisor = as_user(people.dcfs_supervisor)
    assert {"youth": dmh_case.youth_id, "score": 1.0} in supervisor.get(f"/api/v1/referrals/{referral['id']}/").json()[
        "possible_duplicates"
    ]
    screened(as_user, people.dcfs_supervisor, referral["id"])
    # when
    accepted = supervisor.post(
        f"/api/v1/referrals/{referral['id']}/accept/", {"youth": dmh_case.youth_id}, format="json"
    )
    # then: linked to DMH's case, which stays DMH's; the Sheriff gets no share (SPEC §1)
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["case"] == dmh_case.pk
    assert set(CaseAgency.objects.filter(case=dmh_case).values_list("agency__code", flat=True)) == {"DMH", "DCFS"}
    assert not ShareRequest.objects.filter(case=dmh_case, agency__code="SHERIFF").exists()


def test_a_merged_record_cannot_be_chosen(people, as_user):
    # given: two DCFS records of Jasmine, one merged into the other
    older = open_case(people.dcfs_case_worker, people.dcfs_supervisor).youth
    duplicate = create_referral(people.dcfs_case_worker, receiving_agency=people.dcfs_supervisor.agency).youth
    youth_services.youth_merge(source=duplicate, target=older, actor=people.dcfs_supervisor)
    referral = sheriff_recovery(people, as_user)
    screened(as_user, people.dcfs_supervisor, referral["id"])
    # when
    answer = as_user(people.dcfs_supervisor).post(
        f"/api/v1/referrals/{referral['id']}/accept/", {"youth": duplicate.pk}, format="json"
    )
    # then
    assert answer.status_code == 400, answer.json()
    assert "youth" in answer.json()["errors"]
    assert Referral.objects.get(pk=referral["id"]).status == "screening"


@pytest.mark.parametrize("body", [{"youth": "abc"}, {"youth": True}, {"youth": 0}, {"youth": [1]}])
def test_a_youth_that_is_not_an_id_is_400(people, as_user, body):
    referral = sheriff_recovery(people, as_user)
    screened(as_user, people.dcfs_supervisor, referral["id"])
    answer = as_user(people.dcfs_supervisor).post(f"/api/v1/referrals/{referral['id']}/accept/", body, format="json")
    assert answer.status_code == 400
    assert "youth" in answer.json()["errors"]


def test_only_the_receiving_supervisors_accept_with_a_chosen_youth(people, as_user):
    existing = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    referral = sheriff_recovery(people, as_user)
    screened(as_user, people.dcfs_supervisor, referral["id"])
    path = f"/api/v1/referrals/{referral['id']}/accept/"
    body = {"youth": existing.youth_id}
    # the referring agency's supervisor sees the referral but may not decide it
    assert as_user(people.sheriff_supervisor).post(path, body, format="json").status_code == 403
    # a DCFS case worker not on it does not see it at all; another agency neither
    assert as_user(people.dcfs_worker2).post(path, body, format="json").status_code == 404
    assert as_user(people.probation_supervisor).post(path, body, format="json").status_code == 404
    assert as_user(people.dcfs_mdt_member).post(path, body, format="json").status_code == 404
    assert Referral.objects.get(pk=referral["id"]).status == "screening"


def test_the_detail_shows_no_duplicates_to_those_who_may_not_see_the_referral(people, as_user):
    open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    referral = sheriff_recovery(people, as_user)
    for outsider in (people.probation_supervisor, people.dmh_case_worker, people.dcfs_mdt_member):
        answer = as_user(outsider).get(f"/api/v1/referrals/{referral['id']}/")
        assert answer.status_code == 404
        assert "possible_duplicates" not in answer.json()


# --- the detail's search and the budget --------------------------------------------------------------


def test_reading_the_same_referral_again_costs_no_search_and_over_the_budget_only_visible_ones_show(
    people, as_user, settings
):
    # given: a match the supervisor may see and one they may not, and a budget of three searches
    visible = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    open_case(people.probation_case_worker, people.probation_supervisor)
    referral = sheriff_recovery(people, as_user)
    settings.HARBOR_DUPLICATE_SEARCH_RATES = ["3/hour", "100/day"]
    supervisor = as_user(people.dcfs_supervisor)
    path = f"/api/v1/referrals/{referral['id']}/"
    both = [{"youth": visible.youth_id, "score": 1.0}, {"agency": "PROBATION"}]

    # when: the supervisor reads the referral five times
    reads = [supervisor.get(path).json()["possible_duplicates"] for _ in range(5)]

    # then: one search of the budget; every read reports both
    assert reads == [both] * 5
    assert supervisor.get("/api/v1/youth/matches/?first_name=A&last_name=B").status_code == 200
    assert supervisor.get("/api/v1/youth/matches/?first_name=C&last_name=D").status_code == 200
    assert supervisor.get("/api/v1/youth/matches/?first_name=E&last_name=F").status_code == 429

    # when: the record is corrected (other values: a new search) with the budget spent
    youth_services.youth_update(
        youth=Youth.objects.get(pk=referral["youth"]), actor=people.sheriff_case_worker, data={"aliases": ["JC"]}
    )
    over = supervisor.get(path)

    # then: still answered, with only what the supervisor may see
    assert over.status_code == 200
    assert over.json()["possible_duplicates"] == [{"youth": visible.youth_id, "score": 1.0}]
    assert AuditEvent.objects.filter(
        actor_id=people.dcfs_supervisor.pk, action="search", detail__via="referral_detail", detail__within_budget=False
    ).exists()
