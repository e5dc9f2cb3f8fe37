"""A youth's `contact_details` (SPEC §2): encrypted at rest, current row and history, rotated with
the other encrypted fields, and protected like placement addresses — read and written only by
the lead agency's case team of the open case (the holding agency when there is none)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from cases import crypto
from cases.models import Youth
from cases.services import cases as case_services

from .factories import open_case

pytestmark = pytest.mark.django_db

PHONE = {"kind": "phone", "value": "555-0199", "label": "Aunt Synthetic"}


@pytest.fixture
def case(people):  # type: ignore[no-untyped-def]
    """DCFS leads, its worker on the team; Sheriff participates with its worker on the team."""
    case = open_case(people.sheriff_case_worker, people.dcfs_supervisor)
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.dcfs_case_worker, case_role="social_worker"
    )
    case_services.case_agency_grant(
        case=case, actor=people.dcfs_supervisor, agency=people.sheriff_case_worker.agency, legal_basis="mdt_18961_7"
    )
    case_services.case_team_member_add(
        case=case, actor=people.dcfs_supervisor, user=people.sheriff_case_worker, case_role="referring_worker"
    )
    return case


def _record(as_user, people, case):  # type: ignore[no-untyped-def]
    client = as_user(people.dcfs_case_worker)
    response = client.patch(f"/api/v1/youth/{case.youth_id}/", {"contact_details": [PHONE]}, format="json")
    assert response.status_code == 200, response.json()
    return response


def test_the_lead_case_team_records_and_reads_contact_details(people, as_user, case):
    # when
    response = _record(as_user, people, case)
    # then
    assert response.json()["contact_details"] == [PHONE]
    assert as_user(people.dcfs_case_worker).get(f"/api/v1/youth/{case.youth_id}/").json()["contact_details"] == [PHONE]


def test_contact_details_are_hidden_from_everyone_else_who_sees_the_youth(people, as_user, case):
    # given
    _record(as_user, people, case)
    for user in (people.sheriff_case_worker, people.sheriff_supervisor, people.dcfs_supervisor):
        # when
        response = as_user(user).get(f"/api/v1/youth/{case.youth_id}/")
        # then: the record, without its contact details
        assert response.status_code == 200, user.username
        assert response.json()["contact_details"] is None
        assert "555-0199" not in response.content.decode()


def test_a_partner_cannot_write_contact_details(people, as_user, case):
    # when: the Sheriff deputy on the team (who sees the youth) tries to set them
    response = as_user(people.sheriff_case_worker).patch(
        f"/api/v1/youth/{case.youth_id}/", {"contact_details": [PHONE]}, format="json"
    )
    # then
    assert response.status_code in (403, 404)
    assert Youth.objects.get(pk=case.youth_id).contact_details == []


def test_with_no_open_case_the_holding_agency_keeps_them(people, as_user):
    # given: a record a DCFS worker created, with no case
    client = as_user(people.dcfs_case_worker)
    created = client.post(
        "/api/v1/youth/",
        {"first_name": "Contactnew", "last_name": "Synthetic", "contact_details": [PHONE]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    # then: its creator and the agency's supervisor see them
    assert created.json()["contact_details"] == [PHONE]
    youth_id = created.json()["id"]
    assert as_user(people.dcfs_supervisor).get(f"/api/v1/youth/{youth_id}/").json()["contact_details"] == [PHONE]


def test_contact_details_are_encrypted_in_the_row_and_its_history(people, as_user, case):
    # given
    _record(as_user, people, case)
    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_details FROM cases_youth WHERE id = %s", [case.youth_id])
        (current,) = cursor.fetchone()
        cursor.execute("SELECT contact_details FROM cases_historicalyouth WHERE id = %s", [case.youth_id])
        history = [row[0] for row in cursor.fetchall()]
    # then
    for value in [current, *history]:
        assert value.startswith("fernet:") and "555" not in value and "Synthetic" not in value


def test_key_rotation_covers_contact_details(people, as_user, case, settings):
    # given: contact details encrypted under the old key
    old = settings.HARBOR_FIELD_KEYS[0] if settings.HARBOR_FIELD_KEYS else Fernet.generate_key().decode()
    settings.HARBOR_FIELD_KEYS = [old]
    crypto.reset_key_cache()
    try:
        _record(as_user, people, case)
        new = Fernet.generate_key().decode()
        settings.HARBOR_FIELD_KEYS = [new, old]
        crypto.reset_key_cache()
        # when
        call_command("rotate_field_keys", "--no-progress", stdout=io.StringIO())
        # then: under the new key alone, the value reads back
        with connection.cursor() as cursor:
            cursor.execute("SELECT contact_details FROM cases_youth WHERE id = %s", [case.youth_id])
            (token,) = cursor.fetchone()
        assert crypto.is_current(token)
        settings.HARBOR_FIELD_KEYS = [new]
        crypto.reset_key_cache()
        assert Youth.objects.get(pk=case.youth_id).contact_details == [PHONE]
    finally:
        crypto.reset_key_cache()
