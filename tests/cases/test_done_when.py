"""A referral's whole path to a shared case, tried as a new user would: through the API, on
PostgreSQL, each agency seeing only what SPEC §1 and §2 let it see at each step."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def login(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def ok(response, status=200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def test_a_referral_becomes_a_case_each_agency_sees_only_while_shared_and_as_allowed(people):
    """A Sheriff referral is screened and accepted into a DCFS-led case; other agencies see it
    only once DCFS shares it (and their worker is on the team); a DMH clinical note stays with
    DMH; a later referral of the same child names the agency to ask, or the youth to those who
    may see it; admin and auditor roles get no case data; an expired grant is a 404 at once."""
    deputy = login(people.sheriff_case_worker)
    dcfs_sup = login(people.dcfs_supervisor)
    probation_sup = login(people.probation_supervisor)
    probation_worker = login(people.probation_case_worker)
    clinician = login(people.dmh_case_worker)

    # 1. A Sheriff deputy logs a referral: law-enforcement recovery, indicators, a youth with an alias.
    now = timezone.now()
    referral = ok(
        deputy.post(
            "/api/v1/referrals/",
            {
                "youth": {
                    "first_name": "Jasmine",
                    "last_name": "Carter",
                    "date_of_birth": "2010-03-14",
                    "aliases": ["Jazzy"],
                },
                "received_at": now.isoformat(),
                "source": "law_enforcement_recovery",
                "recovered_at": (now - dt.timedelta(minutes=40)).isoformat(),
                "indicators": ["runaway_or_homeless", "controlling_older_partner"],
                "narrative": "Synthetic: recovered during an operation.",
            },
            format="json",
        ),
        201,
    )
    assert referral["referring_agency"] == "SHERIFF" and referral["receiving_agency"] == "DCFS"

    # A DCFS supervisor sees it, screens it clear_concern and accepts it: a case opens, DCFS leads.
    assert referral["id"] in [r["id"] for r in ok(dcfs_sup.get("/api/v1/referrals/"))["results"]]
    screened = ok(
        dcfs_sup.post(
            f"/api/v1/referrals/{referral['id']}/screen/",
            {"level": "clear_concern", "instrument": "CSE-IT"},
            format="json",
        )
    )
    assert screened["screening"]["level"] == "clear_concern" and screened["screening"]["suggested_level"]
    accepted = ok(dcfs_sup.post(f"/api/v1/referrals/{referral['id']}/accept/"))
    case_id = accepted["case"]
    case = ok(dcfs_sup.get(f"/api/v1/cases/{case_id}/"))
    assert case["lead_agency"] == "DCFS" and case["status"] == "open" and case["number"].startswith("H-")

    # A Probation worker gets 404 until Probation participates (and the worker is on the team).
    assert probation_worker.get(f"/api/v1/cases/{case_id}/").status_code == 404
    assert probation_sup.get(f"/api/v1/cases/{case_id}/").status_code == 404
    grant = ok(
        dcfs_sup.post(
            f"/api/v1/cases/{case_id}/agencies/", {"agency": "PROBATION", "legal_basis": "mdt_18961_7"}, format="json"
        ),
        201,
    )
    assert grant["expires_at"]
    assert probation_sup.get(f"/api/v1/cases/{case_id}/").status_code == 200
    ok(
        probation_sup.post(
            f"/api/v1/cases/{case_id}/team/",
            {"user": people.probation_case_worker.pk, "role": "probation_officer"},
            format="json",
        ),
        201,
    )
    assert probation_worker.get(f"/api/v1/cases/{case_id}/").status_code == 200

    # The referring Sheriff keeps sight of its referral only until DCFS shares the case with it
    # (SPEC §1 "Sharing has one door"); DCFS does, and puts the deputy on the team.
    assert deputy.get(f"/api/v1/cases/{case_id}/").status_code == 404
    ok(
        dcfs_sup.post(
            f"/api/v1/cases/{case_id}/agencies/", {"agency": "SHERIFF", "legal_basis": "mdt_18961_7"}, format="json"
        ),
        201,
    )
    ok(
        dcfs_sup.post(
            f"/api/v1/cases/{case_id}/team/",
            {"user": people.sheriff_case_worker.pk, "role": "referring_worker"},
            format="json",
        ),
        201,
    )

    # 2. A DMH clinician on the case writes a clinical note.
    ok(
        dcfs_sup.post(
            f"/api/v1/cases/{case_id}/agencies/", {"agency": "DMH", "legal_basis": "mdt_18961_7"}, format="json"
        ),
        201,
    )
    ok(
        dcfs_sup.post(
            f"/api/v1/cases/{case_id}/team/", {"user": people.dmh_case_worker.pk, "role": "clinician"}, format="json"
        ),
        201,
    )
    note = ok(
        clinician.post(
            f"/api/v1/cases/{case_id}/notes/",
            {"body": "Synthetic clinical observation", "visibility": "clinical"},
            format="json",
        ),
        201,
    )
    ok(
        dcfs_sup.post(
            f"/api/v1/cases/{case_id}/notes/", {"body": "Synthetic team note", "visibility": "team"}, format="json"
        ),
        201,
    )
    assert note["id"] in [n["id"] for n in ok(clinician.get(f"/api/v1/cases/{case_id}/notes/"))["results"]]
    # The DCFS supervisor and the Sheriff deputy do not see it anywhere.
    for client in (dcfs_sup, deputy):
        notes = ok(client.get(f"/api/v1/cases/{case_id}/notes/"))
        assert note["id"] not in [n["id"] for n in notes["results"]] and notes["count"] == 1
        assert client.get(f"/api/v1/cases/{case_id}/notes/{note['id']}/").status_code == 404
        for path in ("", "timeline/?page_size=200", "history/?page_size=200"):
            body = ok(client.get(f"/api/v1/cases/{case_id}/{path}"))
            text = json.dumps(body)
            assert "clinical" not in text and "Synthetic clinical" not in text, path
            items = body.get("results", [])
            assert not [i for i in items if i["object_type"] == "note" and i["object_id"] == note["id"]], path

    # 3. A second referral for the same child — misspelled, or under the alias — by another agency
    # reports the earlier record in the form that caller may see.
    dmh_other = UserFactory(username="dmh_worker2", agency=people.dmh_case_worker.agency, role="case_worker")
    hidden = ok(
        login(dmh_other).post(
            "/api/v1/referrals/",
            {
                "youth": {"first_name": "Jazzy", "last_name": "Karter", "date_of_birth": "2010-03-14"},
                "received_at": timezone.now().isoformat(),
                "source": "medical",
                "indicators": [],
            },
            format="json",
        ),
        201,
    )
    # SPEC §2: the agency named is the one to ask — the lead of the open case (DCFS), not the
    # Sheriff that holds the record.
    assert hidden["possible_duplicates"] == [{"agency": "DCFS"}]
    visible = ok(
        dcfs_sup.post(
            "/api/v1/referrals/",
            {
                "youth": {"first_name": "Jazmin", "last_name": "Carter", "date_of_birth": "2010-03-14"},
                "received_at": timezone.now().isoformat(),
                "source": "hotline",
                "indicators": [],
            },
            format="json",
        ),
        201,
    )
    assert {"youth": case["youth"]} == {"youth": visible["possible_duplicates"][0]["youth"]}
    assert 0 < visible["possible_duplicates"][0]["score"] <= 1

    # 4. Admin and auditor roles get nothing from any case endpoint.
    for user in (people.dcfs_agency_admin, people.system_admin, people.dcfs_auditor):
        client = APIClient()
        from knox.models import AuthToken

        client.credentials(
            HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}"
        )  # MFA roles: token made directly
        for path in [
            "/api/v1/youth/",
            "/api/v1/referrals/",
            "/api/v1/cases/",
            f"/api/v1/cases/{case_id}/",
            f"/api/v1/cases/{case_id}/notes/",
            f"/api/v1/cases/{case_id}/timeline/",
            f"/api/v1/referrals/{referral['id']}/",
            f"/api/v1/youth/{case['youth']}/",
            "/api/v1/youth/matches/?first_name=Jasmine",
        ]:
            response = client.get(path)
            # a named object: 404 (no hint it exists); a collection: the role is refused, 403
            expected = 404 if re.search(r"/\d+/", path) else 403
            assert response.status_code == expected, (user.username, path)
            assert set(response.json()) == {"detail", "code"}
            assert "Jasmine" not in response.content.decode()

    # 5. The grant expires after 30 days: 404 again at once, no job ran.
    with time_machine.travel(timezone.now() + dt.timedelta(days=30, minutes=1)):
        assert login(people.probation_case_worker).get(f"/api/v1/cases/{case_id}/").status_code == 404
        assert login(people.probation_supervisor).get(f"/api/v1/cases/{case_id}/").status_code == 404
        assert login(people.dcfs_supervisor).get(f"/api/v1/cases/{case_id}/").status_code == 200
