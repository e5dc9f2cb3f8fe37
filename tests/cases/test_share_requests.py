"""Share requests (SPEC §1 "Sharing has one door", §6 sharing): accepting a referral for a youth
whose open case another agency leads links the referral and asks the lead agency's supervisors,
who approve through the one grant service or decline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import CaseAgency, CaseTeamMember, ShareRequest
from cases.services import cases as case_services
from cases.services import sharing
from notifications.models import Notification
from notifications.services.delivery import notification_send
from tests.factories import UserFactory

from .factories import accept_referral, create_referral, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(people):  # type: ignore[no-untyped-def]
    """DCFS leads the case a Sheriff deputy referred; nothing is shared."""
    return open_case(people.sheriff_case_worker, people.dcfs_supervisor)


def sheriff_accepts(people, case):  # type: ignore[no-untyped-def]
    """The Sheriff deputy refers the case's youth to the Sheriff, whose supervisor accepts."""
    referral = create_referral(
        people.sheriff_case_worker, youth=case.youth, receiving_agency=people.sheriff_supervisor.agency
    )
    accept_referral(referral, people.sheriff_supervisor)
    referral.refresh_from_db()
    return referral


@pytest.fixture
def request_(people, case):  # type: ignore[no-untyped-def]
    sheriff_accepts(people, case)
    return ShareRequest.objects.get(case=case)


def results(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- raising ---------------------------------------------------------------------------------------


def test_accepting_for_a_case_led_elsewhere_links_grants_nothing_and_raises_one_request(people, case):
    # when: two referrals of the youth to the Sheriff are accepted
    first, second = sheriff_accepts(people, case), sheriff_accepts(people, case)
    # then
    assert first.case_id == second.case_id == case.pk
    assert list(CaseAgency.objects.filter(case=case).values_list("agency__code", flat=True)) == ["DCFS"]
    [request] = ShareRequest.objects.filter(case=case)
    assert (request.agency.code, request.referral_id, request.status) == ("SHERIFF", first.pk, "pending")
    assert not CaseTeamMember.objects.filter(case=case, user=people.sheriff_case_worker).exists()


def test_accepting_for_a_case_the_receiving_agency_leads_just_links(people, case):
    # given: a Probation officer refers the youth to DCFS, the lead
    referral = create_referral(people.probation_case_worker, youth=case.youth, receiving_agency=case.lead_agency)
    # when
    linked = accept_referral(referral, people.dcfs_supervisor)
    # then
    assert linked.pk == case.pk
    assert not ShareRequest.objects.exists()
    assert list(CaseAgency.objects.filter(case=case).values_list("agency__code", flat=True)) == ["DCFS"]
    assert not CaseTeamMember.objects.filter(case=case, user=people.probation_case_worker).exists()


def test_the_referring_worker_joins_the_team_only_when_their_agency_leads(people):
    # when
    own = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    other = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    # then
    assert CaseTeamMember.objects.filter(case=own, user=people.dcfs_case_worker, case_role="referring_worker").exists()
    assert not CaseTeamMember.objects.filter(case=other, user=people.sheriff_case_worker).exists()


def test_an_agency_that_participates_raises_no_request(people, case):
    # given
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.sheriff_supervisor.agency, legal_basis="mdt_18961_7"
    )
    # when
    referral = sheriff_accepts(people, case)
    # then
    assert referral.case_id == case.pk
    assert not ShareRequest.objects.exists()


def test_raising_notifies_the_lead_supervisors_by_case_number_only(people, case):
    # given: a second, deactivated DCFS supervisor
    gone = UserFactory(
        username="dcfs_sup_gone", agency=people.dcfs_supervisor.agency, role="supervisor", is_active=False
    )
    # when
    sheriff_accepts(people, case)
    # then: the active DCFS supervisor is told, nobody else
    notices = Notification.objects.filter(rule=sharing.SHARE_REQUEST_NOTICE)
    assert [n.recipient_id for n in notices] == [people.dcfs_supervisor.pk]
    assert gone.pk not in {n.recipient_id for n in notices}
    [notice] = notices
    assert notice.stage == "notice" and notice.case_id == case.pk
    assert case.number in notice.subject and notice.link.endswith("/api/v1/share-requests/")
    # and the email carries the case number, nothing identifying
    assert notification_send(notification_id=notice.pk).outcome == "sent"
    [email] = mail.outbox
    text = email.subject + email.body + email.alternatives[0][0]
    assert case.number in email.subject
    for secret in ("Jasmine", "Carter", "Jazzy", "2010", "Synthetic narrative"):
        assert secret not in text, secret
    assert "agenda" not in email.body


def test_each_step_is_audited_with_ids(people, as_user, request_):
    # when
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/share-requests/{request_.pk}/approve/", {"legal_basis": "mdt_18961_7"}, format="json"
    )
    # then
    assert response.status_code == 200, response.content
    events = AuditEvent.objects.filter(object_type="share_request", object_id=str(request_.pk))
    assert {(e.action, e.youth_id) for e in events} >= {
        ("create", request_.case.youth_id),
        ("access_change", request_.case.youth_id),
    }
    grant = AuditEvent.objects.get(object_type="case_agency", action="access_change", detail__agency="SHERIFF")
    assert grant.youth_id == request_.case.youth_id
    for event in [*events, grant]:
        assert set(map(str, event.detail.values())).isdisjoint({"Jasmine", "Carter", "Jazzy"})


# --- the API ---------------------------------------------------------------------------------------


def test_the_list_is_for_the_lead_supervisors_only(people, as_user, api_client, request_):
    # when
    lead = results(as_user(people.dcfs_supervisor).get("/api/v1/share-requests/"))
    # then
    assert [(r["id"], r["case"], r["case_number"], r["agency"], r["status"]) for r in lead] == [
        (request_.pk, request_.case_id, request_.case.number, "SHERIFF", "pending")
    ]
    for user in (people.dcfs_case_worker, people.sheriff_supervisor, people.sheriff_case_worker, people.dmh_supervisor):
        assert results(as_user(user).get("/api/v1/share-requests/")) == [], user.username
    for user in (people.dcfs_auditor, people.dcfs_agency_admin, people.dcfs_mdt_member, people.system_admin):
        assert as_user(user).get("/api/v1/share-requests/").status_code == 403, user.username
    assert api_client.get("/api/v1/share-requests/").status_code == 401


@pytest.mark.parametrize(
    ("action", "body"), [("approve", {"legal_basis": "mdt_18961_7"}), ("decline", {"reason": "No."})]
)
def test_a_request_you_may_not_see_answers_404(people, as_user, request_, action, body):
    for user in (
        people.sheriff_supervisor,
        people.sheriff_case_worker,
        people.dcfs_case_worker,
        people.probation_supervisor,
        people.dcfs_auditor,
    ):
        response = as_user(user).post(f"/api/v1/share-requests/{request_.pk}/{action}/", body, format="json")
        assert response.status_code == 404, (user.username, response.content)
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert as_user(people.dcfs_supervisor).post(f"/api/v1/share-requests/999999/{action}/", body).status_code == 404
    request_.refresh_from_db()
    assert request_.status == "pending"


def test_approving_shares_through_the_grant_and_twice_answers_409(people, as_user, request_):
    client = as_user(people.dcfs_supervisor)
    # when
    approved = client.post(
        f"/api/v1/share-requests/{request_.pk}/approve/",
        {"legal_basis": "consent", "expires_at": (timezone.now() + dt.timedelta(days=90)).isoformat()},
        format="json",
    )
    again = client.post(f"/api/v1/share-requests/{request_.pk}/approve/", {"legal_basis": "consent"}, format="json")
    decline = client.post(f"/api/v1/share-requests/{request_.pk}/decline/", {"reason": "Too late."}, format="json")
    # then
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["status"], body["decided_by"]) == ("approved", people.dcfs_supervisor.pk)
    participation = CaseAgency.objects.get(pk=body["participation"])
    assert (participation.agency.code, participation.legal_basis) == ("SHERIFF", "consent")
    assert as_user(people.sheriff_supervisor).get(f"/api/v1/cases/{request_.case_id}/").status_code == 200
    assert (again.status_code, decline.status_code) == (409, 409)
    assert results(client.get("/api/v1/share-requests/")) == []


def test_declining_needs_a_reason_and_twice_answers_409(people, as_user, request_):
    client = as_user(people.dcfs_supervisor)
    # when
    blank = client.post(f"/api/v1/share-requests/{request_.pk}/decline/", {"reason": "  "}, format="json")
    missing = client.post(f"/api/v1/share-requests/{request_.pk}/decline/", {}, format="json")
    declined = client.post(f"/api/v1/share-requests/{request_.pk}/decline/", {"reason": "No role."}, format="json")
    again = client.post(f"/api/v1/share-requests/{request_.pk}/decline/", {"reason": "No role."}, format="json")
    approve = client.post(
        f"/api/v1/share-requests/{request_.pk}/approve/", {"legal_basis": "mdt_18961_7"}, format="json"
    )
    # then
    assert (blank.status_code, missing.status_code) == (400, 400)
    assert declined.status_code == 200 and declined.json()["decline_reason"] == "No role."
    assert (again.status_code, approve.status_code) == (409, 409)
    assert not CaseAgency.objects.filter(case=request_.case, agency__code="SHERIFF").exists()
    assert as_user(people.sheriff_supervisor).get(f"/api/v1/cases/{request_.case_id}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"legal_basis": "lead"}, "legal_basis"),
        ({}, "legal_basis"),
        ({"legal_basis": "consent"}, "expires_at"),
        ({"legal_basis": "mdt_18961_7", "expires_at": "2100-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_approving_keeps_the_rules_of_a_grant(people, as_user, request_, body, field):
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/share-requests/{request_.pk}/approve/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json().get("errors", response.json())
    request_.refresh_from_db()
    assert request_.status == "pending"
    assert not CaseAgency.objects.filter(case=request_.case, agency__code="SHERIFF").exists()


def test_an_explicit_grant_settles_the_pending_request(people, request_):
    # when
    participation = case_services.case_agency_grant(
        case=request_.case, actor=people.dcfs_supervisor, agency=request_.agency, legal_basis="mdt_18961_7"
    )
    # then
    request_.refresh_from_db()
    assert (request_.status, request_.participation_id, request_.decided_by_id) == (
        "approved",
        participation.pk,
        people.dcfs_supervisor.pk,
    )


def test_a_closed_case_is_not_shared(people, as_user, request_):
    case_services.case_close(case=request_.case, actor=people.dcfs_supervisor, reason="Synthetic reason")
    response = as_user(people.dcfs_supervisor).post(
        f"/api/v1/share-requests/{request_.pk}/approve/", {"legal_basis": "mdt_18961_7"}, format="json"
    )
    assert response.status_code == 409, response.content


# --- renewals and grants ----------------------------------------------------------------------------


def test_an_expired_participation_is_renewed_only_with_a_good_cause(people, as_user, case):
    # given: a consent that ran out yesterday
    import time_machine

    with time_machine.travel(timezone.now() - dt.timedelta(days=3)):
        case_services.case_agency_grant(
            case=case,
            actor=people.dcfs_supervisor,
            agency=people.dmh_supervisor.agency,
            legal_basis="consent",
            expires_at=timezone.now() + dt.timedelta(days=2),
        )
    url = f"/api/v1/cases/{case.pk}/agencies/DMH/renew/"
    later = (timezone.now() + dt.timedelta(days=60)).isoformat()
    # when
    dmh = as_user(people.dmh_supervisor).post(url, {"good_cause": "x", "expires_at": later}, format="json")
    worker = as_user(people.dcfs_case_worker).post(url, {"good_cause": "x", "expires_at": later}, format="json")
    no_cause = as_user(people.dcfs_supervisor).post(url, {"expires_at": later}, format="json")
    renewed = as_user(people.dcfs_supervisor).post(
        url, {"good_cause": "New release signed.", "expires_at": later}, format="json"
    )
    # then
    assert dmh.status_code == 404  # the expired participant sees nothing of the case
    assert worker.status_code in (403, 404)
    assert no_cause.status_code == 400 and "good_cause" in no_cause.json().get("errors", no_cause.json())
    assert renewed.status_code == 200, renewed.content
    assert as_user(people.dmh_supervisor).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_an_18961_7_grant_counts_from_the_referral_that_opened_the_case(people, case):
    # given: a later referral of the youth, received after the one that opened the case
    opening = case.referrals.get()
    later = create_referral(
        people.probation_case_worker, youth=case.youth, receiving_agency=case.lead_agency, received_at=timezone.now()
    )
    accept_referral(later, people.dcfs_supervisor)
    # when
    report = sharing.case_report_at(case=case)
    participation = case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.dmh_supervisor.agency, legal_basis="mdt_18961_7"
    )
    # then
    assert report == opening.received_at
    assert participation.expires_at == opening.received_at + sharing.MDT_SHARING_PERIOD


def test_only_the_lead_supervisors_grant(people, case):
    from core.errors import ApplicationError

    for user in (people.dcfs_case_worker, people.sheriff_supervisor):
        with pytest.raises(ApplicationError) as refused:
            sharing.participation_grant(
                case=case, actor=user, agency=people.probation_supervisor.agency, legal_basis="mdt_18961_7"
            )
        assert refused.value.code == "forbidden"


# --- query count ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 50])
def test_the_list_query_count_is_pinned_and_independent_of_rows(people, as_user, rows):
    # given: `rows` DCFS cases, each with a Sheriff share request
    for i in range(rows):
        case = open_case(people.dcfs_supervisor, people.dcfs_supervisor, youth_data={"first_name": f"Youth{i}"})
        sheriff_accepts(people, case)
    client = as_user(people.dcfs_supervisor)
    client.get("/api/v1/share-requests/")  # warm the token's refresh
    # when
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/share-requests/")
    # then: authentication (2), the count, the page, the list event's id (drawn first: the MAC
    # covers it) and its INSERT
    assert len(results(response)) == rows
    assert len(ctx) == 6, [q["sql"] for q in ctx.captured_queries]
