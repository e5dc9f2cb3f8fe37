"""The agency access report (SPEC §1, §6): the quarterly account review an agency admin holds —
every user of the agency with role, active state, MFA state, last sign-in, open sessions and
tokens and MDT team memberships, and the agency's participations by legal basis and expiry, as
counts only. JSON and CSV from the API, CSV from the admin's download button."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from cases.models import Case
from mdt.models import MDTTeam, TeamMembership
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.flows.test_sharing import accept, refer, share

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bootstrapped(reference_data):  # type: ignore[no-untyped-def]
    """Every test here runs on the reference data (tests/conftest.py `reference_data`)."""


@pytest.fixture
def people(agencies):  # type: ignore[no-untyped-def]
    return {
        "dcfs_admin": UserFactory(username="dcfs_admin", agency=agencies["DCFS"], role="agency_admin"),
        "dcfs_worker": UserFactory(
            username="dcfs_worker", first_name="=cmd", agency=agencies["DCFS"], role="case_worker"
        ),
        "dcfs_supervisor": UserFactory(username="dcfs_supervisor", agency=agencies["DCFS"], role="supervisor"),
        "dcfs_gone": UserFactory(username="dcfs_gone", agency=agencies["DCFS"], role="case_worker", is_active=False),
        "sheriff_worker": UserFactory(username="sheriff_worker", agency=agencies["SHERIFF"], role="case_worker"),
        "sheriff_supervisor": UserFactory(username="sheriff_supervisor", agency=agencies["SHERIFF"], role="supervisor"),
        "sheriff_admin": UserFactory(username="sheriff_admin", agency=agencies["SHERIFF"], role="agency_admin"),
    }


def report(user, code: str = "DCFS", **params):  # type: ignore[no-untyped-def]
    return client_for(user).get(f"/api/v1/agencies/{code}/access-report/", params)


def test_the_agency_admin_reads_every_account_of_their_agency(people):  # type: ignore[no-untyped-def]
    # given: a worker with a token and MFA, a team membership, a last sign-in; an inactive worker
    worker = people["dcfs_worker"]
    TOTPDevice.objects.create(user=worker, name="phone", confirmed=True)
    client_for(worker)  # one open token
    worker.last_login = timezone.now() - dt.timedelta(days=3)
    worker.save(update_fields=["last_login"])
    team = MDTTeam.objects.create(code="REPORTT", name="STAR court MDT", court=Case.Court.STAR)
    TeamMembership.objects.create(team=team, user=worker, is_coordinator=True)

    # when
    response = report(people["dcfs_admin"])

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["agency"] == "DCFS"
    rows = {row["username"]: row for row in body["users"]}
    assert set(rows) == {"dcfs_admin", "dcfs_worker", "dcfs_supervisor", "dcfs_gone"}  # no other agency's
    assert rows["dcfs_worker"]["mfa_enrolled"] is True and rows["dcfs_supervisor"]["mfa_enrolled"] is False
    assert rows["dcfs_worker"]["open_tokens"] == 1 and rows["dcfs_supervisor"]["open_tokens"] == 0
    assert rows["dcfs_worker"]["last_login"] is not None
    assert rows["dcfs_worker"]["teams"] == [{"team": team.pk, "name": "STAR court MDT", "is_coordinator": True}]
    assert rows["dcfs_gone"]["is_active"] is False
    assert rows["dcfs_worker"]["role"] == "case_worker"
    assert response["Cache-Control"] == "no-store"


def test_participations_are_counts_by_legal_basis_and_expiry_only(people):  # type: ignore[no-untyped-def]
    # given: DCFS leads two cases; it shares one with the Sheriff under 18961.7 expiring in 10 days
    first = refer(people["sheriff_worker"], to="DCFS")
    case_id = accept(people["dcfs_supervisor"], first["id"])["case"]
    second = refer(
        people["sheriff_worker"],
        to="DCFS",
        youth={"first_name": "Otherfirst", "last_name": "Otherlast", "date_of_birth": "2011-02-03"},
    )
    accept(people["dcfs_supervisor"], second["id"])
    soon = (timezone.now() + dt.timedelta(days=10)).isoformat()
    assert share(people["dcfs_supervisor"], case_id, "SHERIFF", expires_at=soon).status_code in (200, 201)

    dcfs = report(people["dcfs_admin"]).json()["participations"]
    sheriff = report(people["sheriff_admin"], "SHERIFF").json()["participations"]

    by_basis = {row["legal_basis"]: row for row in dcfs}
    assert by_basis["lead"]["active"] == 2 and by_basis["mdt_18961_7"]["active"] == 0
    sheriff_basis = {row["legal_basis"]: row for row in sheriff}
    assert sheriff_basis["mdt_18961_7"] == {
        "legal_basis": "mdt_18961_7",
        "active": 1,
        "expiring_within_30_days": 1,
        "expired": 0,
        "revoked": 0,
    }
    # counts only: no case, youth or case number anywhere in the report
    text = report(people["sheriff_admin"], "SHERIFF").content.decode()
    assert "Flowfirst" not in text and "Otherfirst" not in text
    assert all(
        set(row) == {"legal_basis", "active", "expiring_within_30_days", "expired", "revoked"} for row in sheriff
    )


def test_csv_holds_the_same_report_and_defuses_formulas(people):  # type: ignore[no-untyped-def]
    response = report(people["dcfs_admin"], format="csv")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["id", "username", "first_name"]
    users = {row[1]: row for row in rows[1:] if row and row[0].isdigit()}
    assert set(users) == {"dcfs_admin", "dcfs_worker", "dcfs_supervisor", "dcfs_gone"}
    assert users["dcfs_worker"][2] == "'=cmd"  # a name a spreadsheet would run as a formula
    assert ["legal_basis", "active", "expiring_within_30_days", "expired", "revoked"] in rows


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("sheriff_admin", "DCFS", 403),  # another agency's admin
        ("dcfs_supervisor", "DCFS", 403),  # case roles never read it
        ("dcfs_worker", "DCFS", 403),
        ("dcfs_admin", "NOPE", 404),
    ],
)
def test_only_the_agencys_admins_and_system_admins_read_it(people, who, code, status):  # type: ignore[no-untyped-def]
    response = report(people[who], code)
    assert response.status_code == status, response.content
    assert set(response.json()) >= {"code", "detail"}


def test_a_system_admin_reads_any_agency(people, system_admin):  # type: ignore[no-untyped-def]
    response = report(system_admin, "SHERIFF")
    assert response.status_code == 200
    assert {row["username"] for row in response.json()["users"]} == {
        "sheriff_worker",
        "sheriff_supervisor",
        "sheriff_admin",
    }


def test_every_read_is_one_export_event_with_counts_only(people):  # type: ignore[no-untyped-def]
    before = AuditEvent.objects.filter(action="export", object_type="access_report").count()
    report(people["dcfs_admin"], format="csv")
    events = AuditEvent.objects.filter(action="export", object_type="access_report").order_by("id")
    assert events.count() == before + 1
    event = events.last()
    assert event.actor_id == people["dcfs_admin"].pk
    assert event.detail == {"format": "csv", "via": "api", "users": 4}


def test_the_admin_download_button_gives_the_csv(people, client, settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_MFA_ENFORCED = False
    admin = people["dcfs_admin"]
    client.force_login(admin)
    page = client.get("/admin/reports/accessreportagency/")
    assert page.status_code == 200
    assert b"Download CSV" in page.content and b"DCFS" in page.content and b"SHERIFF" not in page.content
    download = client.get("/admin/reports/accessreportagency/DCFS/download/")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert b"dcfs_worker" in download.content
    other = client.get("/admin/reports/accessreportagency/SHERIFF/download/")
    assert other.status_code == 403
