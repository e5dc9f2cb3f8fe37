"""Sharing has one door (SPEC §1): each story is a sequence of legitimate API calls that once
gave an agency a case the lead agency never shared with it.

Found by an independent review: an agency whose access had been revoked got the case back by
referring the same youth to itself and accepting the referral; a different agency gained access
the same way. Accepting a referral now grants nothing: it links the referral to the youth's open
case and raises a share request that only the lead agency's supervisors decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case
from notifications.models import Deadline
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bootstrapped(reference_data):  # type: ignore[no-untyped-def]
    """Every test here runs on the reference data (tests/conftest.py `reference_data`)."""


@pytest.fixture
def staff(agencies):  # type: ignore[no-untyped-def]
    """A case worker and a supervisor per agency: `staff["SHERIFF"]["worker"]`, …"""
    return {
        code: {
            role: UserFactory(username=f"{code.lower()}_{role}", agency=agency, role=kind)
            for role, kind in (("worker", "case_worker"), ("supervisor", "supervisor"))
        }
        for code, agency in agencies.items()
    }


def api(user: Any) -> Any:
    """A fresh client with a fresh token (tokens expire when the clock moves a month)."""
    return client_for(user)


def refer(worker: Any, *, to: str, youth: Any = None, received_at: dt.datetime | None = None) -> dict:
    body = {
        "youth": youth
        if youth is not None
        else {"first_name": "Flowfirst", "last_name": "Flowlast", "date_of_birth": "2010-06-01"},
        "receiving_agency": to,
        "received_at": (received_at or timezone.now()).isoformat(),
        "source": "law_enforcement_recovery",
        "indicators": ["runaway_or_homeless"],
        "narrative": "Synthetic narrative.",
    }
    response = api(worker).post("/api/v1/referrals/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def accept(supervisor: Any, referral_id: int) -> dict:
    client = api(supervisor)
    screened = client.post(
        f"/api/v1/referrals/{referral_id}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"}, format="json"
    )
    assert screened.status_code == 200, screened.content
    accepted = client.post(f"/api/v1/referrals/{referral_id}/accept/")
    assert accepted.status_code == 200, accepted.content
    return accepted.json()


def sees_case(user: Any, case_id: int) -> bool:
    client = api(user)
    detail = client.get(f"/api/v1/cases/{case_id}/")
    listed = case_id in {c["id"] for c in client.get("/api/v1/cases/").json()["results"]}
    assert detail.status_code in (200, 404), detail.content
    assert listed == (detail.status_code == 200), "the list and the detail disagree"
    return detail.status_code == 200


def share(lead_supervisor: Any, case_id: int, agency: str, **body: Any) -> Any:
    return api(lead_supervisor).post(
        f"/api/v1/cases/{case_id}/agencies/", {"agency": agency, "legal_basis": "mdt_18961_7", **body}, format="json"
    )


def awaiting(supervisor: Any) -> list[dict]:
    response = api(supervisor).get("/api/v1/share-requests/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def dcfs_case_referred_by_sheriff(staff: Any, **referral: Any) -> tuple[int, int]:
    """A Sheriff deputy refers a youth to DCFS; DCFS accepts and leads the case."""
    first = refer(staff["SHERIFF"]["worker"], to="DCFS", **referral)
    case_id = accept(staff["DCFS"]["supervisor"], first["id"])["case"]
    return case_id, first["youth"]


@pytest.mark.parametrize("decision", ["approve", "decline"])
def test_revoked_agency_regains_nothing_by_re_referring(staff, decision):  # type: ignore[no-untyped-def]
    # given: DCFS leads the case, shared it with the Sheriff, then revoked the share
    dcfs, sheriff = staff["DCFS"]["supervisor"], staff["SHERIFF"]
    case_id, youth_id = dcfs_case_referred_by_sheriff(staff)
    assert share(dcfs, case_id, "SHERIFF").status_code == 201
    assert sees_case(sheriff["supervisor"], case_id)
    revoked = api(dcfs).post(f"/api/v1/cases/{case_id}/agencies/SHERIFF/revoke/")
    assert revoked.status_code == 200, revoked.content
    assert not sees_case(sheriff["supervisor"], case_id)
    # when: a Sheriff deputy refers the same youth to the Sheriff, and a Sheriff supervisor accepts
    again = refer(sheriff["worker"], to="SHERIFF", youth=youth_id)
    accepted = accept(sheriff["supervisor"], again["id"])
    # then: the referral is linked to the case, and the Sheriff sees nothing of the case
    assert accepted["case"] == case_id
    assert not sees_case(sheriff["supervisor"], case_id)
    assert not sees_case(sheriff["worker"], case_id)
    assert api(sheriff["supervisor"]).get(f"/api/v1/cases/{case_id}/notes/").status_code == 404
    # and DCFS's supervisor is asked
    [request] = awaiting(dcfs)
    assert (request["case"], request["agency"], request["referral"], request["status"]) == (
        case_id,
        "SHERIFF",
        again["id"],
        "pending",
    )
    assert awaiting(sheriff["supervisor"]) == []
    # when DCFS decides
    if decision == "approve":
        body = {"legal_basis": "mdt_18961_7", "good_cause": "Joint safety planning after a new recovery."}
        response = api(dcfs).post(f"/api/v1/share-requests/{request['id']}/approve/", body, format="json")
    else:
        response = api(dcfs).post(
            f"/api/v1/share-requests/{request['id']}/decline/", {"reason": "No current role."}, format="json"
        )
    # then: only an approval shares the case
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ("approved" if decision == "approve" else "declined")
    assert sees_case(sheriff["supervisor"], case_id) == (decision == "approve")
    assert awaiting(dcfs) == []


def test_expired_share_cannot_be_self_renewed(staff):  # type: ignore[no-untyped-def]
    # given: DCFS shared its case with the Sheriff under WIC 18961.7, and the 30 days ran out
    dcfs, sheriff = staff["DCFS"]["supervisor"], staff["SHERIFF"]
    case_id, youth_id = dcfs_case_referred_by_sheriff(staff)
    assert share(dcfs, case_id, "SHERIFF").status_code == 201
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        assert not sees_case(sheriff["supervisor"], case_id)
        # when: the Sheriff tries to renew it itself, and to re-refer the youth to itself
        renewed = api(sheriff["supervisor"]).post(
            f"/api/v1/cases/{case_id}/agencies/SHERIFF/renew/", {"good_cause": "We need it."}, format="json"
        )
        accept(sheriff["supervisor"], refer(sheriff["worker"], to="SHERIFF", youth=youth_id)["id"])
        # then: neither brings the case back
        assert renewed.status_code == 404
        assert not sees_case(sheriff["supervisor"], case_id)
        # and only the lead's supervisor renews it, with a good cause
        no_cause = api(dcfs).post(f"/api/v1/cases/{case_id}/agencies/SHERIFF/renew/", {}, format="json")
        assert no_cause.status_code == 400, no_cause.content
        assert not sees_case(sheriff["supervisor"], case_id)
        with_cause = api(dcfs).post(
            f"/api/v1/cases/{case_id}/agencies/SHERIFF/renew/",
            {"good_cause": "Ongoing joint investigation."},
            format="json",
        )
        assert with_cause.status_code == 200, with_cause.content
        assert dt.datetime.fromisoformat(with_cause.json()["expires_at"]) <= timezone.now() + dt.timedelta(days=30)
        assert sees_case(sheriff["supervisor"], case_id)


def test_referring_to_a_third_agency_grants_nothing_without_the_lead(staff):  # type: ignore[no-untyped-def]
    # given: DCFS leads the case a Sheriff deputy referred; nobody else shares it
    dcfs, probation = staff["DCFS"]["supervisor"], staff["PROBATION"]
    case_id, youth_id = dcfs_case_referred_by_sheriff(staff)
    # when: the Sheriff deputy refers the same youth to Probation, and Probation accepts
    third = refer(staff["SHERIFF"]["worker"], to="PROBATION", youth=youth_id)
    accepted = accept(probation["supervisor"], third["id"])
    # then: neither Probation nor the Sheriff reads the case; DCFS is asked about Probation only
    assert accepted["case"] == case_id
    for user in (probation["supervisor"], probation["worker"], staff["SHERIFF"]["supervisor"]):
        assert not sees_case(user, case_id), user.username
    assert [(r["case"], r["agency"]) for r in awaiting(dcfs)] == [(case_id, "PROBATION")]
    agencies = api(dcfs).get(f"/api/v1/cases/{case_id}/agencies/").json()["results"]
    assert [a["agency"] for a in agencies] == ["DCFS"]


def test_accepting_does_not_share_with_the_referring_agency(staff):  # type: ignore[no-untyped-def]
    # given: a Sheriff deputy refers a youth to DCFS
    sheriff, dcfs = staff["SHERIFF"], staff["DCFS"]["supervisor"]
    referral = refer(sheriff["worker"], to="DCFS")
    # when: DCFS accepts it
    case_id = accept(dcfs, referral["id"])["case"]
    # then: the Sheriff keeps sight of its own referral, not of the case
    assert not sees_case(sheriff["worker"], case_id)
    assert not sees_case(sheriff["supervisor"], case_id)
    own = api(sheriff["worker"]).get(f"/api/v1/referrals/{referral['id']}/")
    assert own.status_code == 200 and own.json()["case"] == case_id
    assert api(sheriff["supervisor"]).get(f"/api/v1/referrals/{referral['id']}/").status_code == 200
    # nothing was shared and the deputy is not on the case team
    agencies = api(dcfs).get(f"/api/v1/cases/{case_id}/agencies/").json()["results"]
    assert [(a["agency"], a["legal_basis"]) for a in agencies] == [("DCFS", "lead")]
    team = api(dcfs).get(f"/api/v1/cases/{case_id}/team/").json()["results"]
    assert sheriff["worker"].pk not in {m["user"] for m in team}
    # the case opened no share request either (DCFS receives and leads it)
    assert awaiting(dcfs) == []


def test_18961_7_share_counts_from_the_report(staff):  # type: ignore[no-untyped-def]
    # given: a report received 20 days ago, accepted today
    dcfs = staff["DCFS"]["supervisor"]
    reported = timezone.now() - dt.timedelta(days=20)
    case_id, _ = dcfs_case_referred_by_sheriff(staff, received_at=reported)
    # when: DCFS shares it with Probation under WIC 18961.7
    too_long = share(dcfs, case_id, "PROBATION", expires_at=(reported + dt.timedelta(days=31)).isoformat())
    granted = share(dcfs, case_id, "PROBATION")
    # then: the sharing ends 30 days after the report, not 30 days after the grant
    assert too_long.status_code == 400, too_long.content
    assert granted.status_code == 201, granted.content
    expires = dt.datetime.fromisoformat(granted.json()["expires_at"])
    assert abs(expires - (reported + dt.timedelta(days=30))) < dt.timedelta(seconds=1)
    # and the renewal clock is due when the sharing ends
    clock = Deadline.objects.get(rule__code="sharing_renewal_30d", object_id=granted.json()["id"])
    assert clock.due_at == expires

    # given: a report received 40 days ago: the 30 days are over
    older = timezone.now() - dt.timedelta(days=40)
    other = refer(staff["PROBATION"]["worker"], to="DCFS", received_at=older)
    other_case = accept(dcfs, other["id"])["case"]
    assert Case.objects.filter(pk=other_case).exists()
    # when / then: sharing now needs a good cause and lasts 30 days from now at most
    no_cause = share(dcfs, other_case, "PROBATION")
    assert no_cause.status_code == 400, no_cause.content
    assert "good_cause" in no_cause.json().get("errors", no_cause.json())
    beyond = share(
        dcfs,
        other_case,
        "PROBATION",
        good_cause="New disclosure.",
        expires_at=(timezone.now() + dt.timedelta(days=31)).isoformat(),
    )
    assert beyond.status_code == 400, beyond.content
    with_cause = share(dcfs, other_case, "PROBATION", good_cause="New disclosure.")
    assert with_cause.status_code == 201, with_cause.content
    expires = dt.datetime.fromisoformat(with_cause.json()["expires_at"])
    assert timezone.now() + dt.timedelta(days=29) < expires <= timezone.now() + dt.timedelta(days=30)


def test_a_court_mdt_share_ends_when_the_court_changes_and_comes_back_only_by_a_grant(staff):  # type: ignore[no-untyped-def]
    # given a DCFS case on the STAR court, shared with DMH for the court's MDT
    lead = staff["DCFS"]["supervisor"]
    referral = refer(staff["DCFS"]["worker"], to="DCFS")
    case_id = accept(lead, referral["id"])["case"]
    assert api(lead).patch(f"/api/v1/cases/{case_id}/", {"court": "STAR"}, format="json").status_code == 200
    shared = api(lead).post(
        f"/api/v1/cases/{case_id}/agencies/", {"agency": "DMH", "legal_basis": "court_mdt"}, format="json"
    )
    assert shared.status_code == 201, shared.content
    assert sees_case(staff["DMH"]["supervisor"], case_id)

    # when the case moves to the DREAM court, then back to STAR
    assert api(lead).patch(f"/api/v1/cases/{case_id}/", {"court": "DREAM"}, format="json").status_code == 200
    gone = not sees_case(staff["DMH"]["supervisor"], case_id)
    assert api(lead).patch(f"/api/v1/cases/{case_id}/", {"court": "STAR"}, format="json").status_code == 200

    # then DMH lost the case with the court, and setting the court back restores nothing
    assert gone
    assert not sees_case(staff["DMH"]["supervisor"], case_id)
    again = api(lead).post(
        f"/api/v1/cases/{case_id}/agencies/", {"agency": "DMH", "legal_basis": "court_mdt"}, format="json"
    )
    assert again.status_code == 201, again.content
    assert sees_case(staff["DMH"]["supervisor"], case_id)


def test_a_court_mdt_share_needs_a_court_and_ends_when_it_is_cleared(staff):  # type: ignore[no-untyped-def]
    # given a DCFS case with no court
    lead = staff["DCFS"]["supervisor"]
    case_id = accept(lead, refer(staff["DCFS"]["worker"], to="DCFS")["id"])["case"]

    # when the lead shares it for a court's MDT it does not have
    refused = api(lead).post(
        f"/api/v1/cases/{case_id}/agencies/", {"agency": "DMH", "legal_basis": "court_mdt"}, format="json"
    )

    # then
    assert refused.status_code == 400
    assert "legal_basis" in refused.json()["errors"]

    # and once shared on the STAR court, clearing the court ends the share
    api(lead).patch(f"/api/v1/cases/{case_id}/", {"court": "STAR"}, format="json")
    api(lead).post(f"/api/v1/cases/{case_id}/agencies/", {"agency": "DMH", "legal_basis": "court_mdt"}, format="json")
    assert sees_case(staff["DMH"]["supervisor"], case_id)
    assert api(lead).patch(f"/api/v1/cases/{case_id}/", {"court": None}, format="json").status_code == 200
    assert not sees_case(staff["DMH"]["supervisor"], case_id)
