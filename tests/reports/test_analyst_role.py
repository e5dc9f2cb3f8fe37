"""The analyst role (SPEC §1): a non-case role only a system admin hands out, that reads the
aggregate reports of §9 and nothing person-level; county-wide for a county-wide agency."""

from __future__ import annotations

import pytest

from accounts.models import Agency, User
from core.permissions import Role
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _body(username: str, role: str, agency: str = "DCFS") -> dict:
    return {"username": username, "email": f"{username}@example.invalid", "agency": agency, "role": role}


def test_a_system_admin_grants_the_analyst_role(agencies):  # type: ignore[no-untyped-def]
    root = UserFactory(username="root", role=Role.SYSTEM_ADMIN, agency=None, is_superuser=True)
    response = client_for(root).post("/api/v1/users/", _body("dcfs_numbers", Role.ANALYST))
    assert response.status_code == 201, response.content
    assert User.objects.get(username="dcfs_numbers").role == Role.ANALYST


def test_an_agency_admin_cannot_grant_the_analyst_role(agencies):  # type: ignore[no-untyped-def]
    admin = UserFactory(username="dcfs_admin", role=Role.AGENCY_ADMIN, agency=agencies["DCFS"])
    response = client_for(admin).post("/api/v1/users/", _body("dcfs_numbers", Role.ANALYST))
    assert response.status_code == 403
    assert not User.objects.filter(username="dcfs_numbers").exists()


def test_a_case_worker_never_becomes_an_analyst_on_the_same_account(agencies):  # type: ignore[no-untyped-def]
    # separation of duties: case side and non-case side never meet on one account
    root = UserFactory(username="root", role=Role.SYSTEM_ADMIN, agency=None, is_superuser=True)
    worker = UserFactory(username="dcfs_worker", role=Role.CASE_WORKER, agency=agencies["DCFS"])
    response = client_for(root).patch(f"/api/v1/users/{worker.pk}/", {"role": Role.ANALYST})
    assert response.status_code in (400, 403), response.content
    worker.refresh_from_db()
    assert worker.role == Role.CASE_WORKER


def test_an_auditor_may_move_to_analyst(agencies):  # type: ignore[no-untyped-def]
    root = UserFactory(username="root", role=Role.SYSTEM_ADMIN, agency=None, is_superuser=True)
    auditor = UserFactory(username="dcfs_auditor", role=Role.AUDITOR, agency=agencies["DCFS"])
    response = client_for(root).patch(f"/api/v1/users/{auditor.pk}/", {"role": Role.ANALYST})
    assert response.status_code == 200, response.content


def test_an_analyst_reads_no_case_data(agencies):  # type: ignore[no-untyped-def]
    analyst = UserFactory(username="dcfs_numbers", role=Role.ANALYST, agency=agencies["DCFS"])
    client = client_for(analyst)
    assert client.get("/api/v1/cases/").status_code == 403
    assert client.get("/api/v1/referrals/").status_code == 403
    assert client.get("/api/v1/audit-events/").status_code == 403
    assert client.get("/api/v1/cases/1/").status_code == 404


def test_a_new_agency_is_not_county_wide_until_a_system_admin_marks_it(agencies):  # type: ignore[no-untyped-def]
    # a new agency is not county-wide until a system admin marks it
    assert Agency.objects.create(code="COURTX", name="Court", kind=Agency.Kind.COURT).is_county_wide is False
