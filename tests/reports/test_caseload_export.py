"""The caseload export (SPEC §9): a case worker or supervisor downloads their own open caseload
as CSV — number, status, court, lead agency, open deadlines; no names, dates of birth, addresses
or clinical content — audited as `export` with the ids exported."""

from __future__ import annotations

import csv
import io

import pytest

from audit.models import AuditEvent
from cases.models import Case
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.flows.test_sharing import accept, refer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bootstrapped(reference_data):  # type: ignore[no-untyped-def]
    """Every test here runs on the reference data (tests/conftest.py `reference_data`)."""


@pytest.fixture
def people(agencies):  # type: ignore[no-untyped-def]
    return {
        "worker": UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role="case_worker"),
        "other_worker": UserFactory(username="dcfs_other", agency=agencies["DCFS"], role="case_worker"),
        "supervisor": UserFactory(username="dcfs_supervisor", agency=agencies["DCFS"], role="supervisor"),
        "sheriff_worker": UserFactory(username="sheriff_worker", agency=agencies["SHERIFF"], role="case_worker"),
        "sheriff_supervisor": UserFactory(username="sheriff_supervisor", agency=agencies["SHERIFF"], role="supervisor"),
        "analyst": UserFactory(username="dcfs_analyst", agency=agencies["DCFS"], role="analyst"),
        "mdt": UserFactory(username="star_member", agency=agencies["DCFS"], role="mdt_member"),
    }


def open_case(worker, supervisor, first: str) -> Case:  # type: ignore[no-untyped-def]
    youth = {"first_name": first, "last_name": "Caseloadlast", "date_of_birth": "2010-02-03"}
    referral = refer(worker, to=supervisor.agency.code, youth=youth)
    return Case.objects.get(pk=accept(supervisor, referral["id"])["case"])


def export(user):  # type: ignore[no-untyped-def]
    return client_for(user).get("/api/v1/reports/caseload/")


def test_a_case_worker_exports_their_caseload(people):  # type: ignore[no-untyped-def]
    # given: one case the worker is on (they referred it), one of another worker, one of another agency
    mine = open_case(people["worker"], people["supervisor"], "Mineone")
    theirs = open_case(people["other_worker"], people["supervisor"], "Theirsone")
    elsewhere = open_case(people["sheriff_worker"], people["sheriff_supervisor"], "Elseone")

    # when
    response = export(people["worker"])

    # then
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == 'attachment; filename="caseload.csv"'
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["number"] for r in rows] == [mine.number]
    assert set(rows[0]) == {"number", "status", "court", "lead_agency", "open_deadlines"}
    assert rows[0]["lead_agency"] == "DCFS" and rows[0]["status"] == "open"
    for secret in ("Mineone", "Caseloadlast", "2010-02-03", "Synthetic narrative"):
        assert secret not in text
    event = AuditEvent.objects.filter(action="export", object_type="caseload").latest("id")
    assert event.actor_id == people["worker"].pk
    assert event.detail["case_ids"] == [mine.pk] and event.detail["youth_ids"] == [mine.youth_id]
    assert theirs.number not in text and elsewhere.number not in text


def test_a_supervisor_exports_their_agencys_caseload_with_open_deadlines(people):  # type: ignore[no-untyped-def]
    first = open_case(people["worker"], people["supervisor"], "Firstone")
    second = open_case(people["other_worker"], people["supervisor"], "Secondone")
    open_case(people["sheriff_worker"], people["sheriff_supervisor"], "Elseone")

    rows = list(csv.DictReader(io.StringIO(export(people["supervisor"]).content.decode())))

    assert sorted(r["number"] for r in rows) == sorted([first.number, second.number])


def test_only_case_workers_and_supervisors_export_a_caseload(people, api_client):  # type: ignore[no-untyped-def]
    assert export(people["analyst"]).status_code == 403
    assert export(people["mdt"]).status_code == 403
    assert api_client.get("/api/v1/reports/caseload/").status_code == 401
