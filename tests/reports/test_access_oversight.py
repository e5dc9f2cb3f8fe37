"""Access oversight (SPEC §9): the beat task reads the audit log and alerts the auditors (inbox
and email, ids only) about bulk reads outside a caseload, bursts of duplicate searches and reads
at unusual hours, with the thresholds a system admin sets; the lead agency's supervisors see who
read their case's records and when."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.models import Case
from notifications.models import Notification
from reports.models import AccessAlert, OversightSettings
from reports.tasks import access_alerts_task
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.flows.test_sharing import accept, refer

pytestmark = pytest.mark.django_db

DAYTIME = dt.datetime(2026, 8, 12, 18, 0, tzinfo=dt.UTC)  # 11:00 in Los Angeles
NIGHT = dt.datetime(2026, 8, 13, 9, 30, tzinfo=dt.UTC)  # 02:30 in Los Angeles


@pytest.fixture(autouse=True)
def _bootstrapped(reference_data):  # type: ignore[no-untyped-def]
    """Every test here runs on the reference data (tests/conftest.py `reference_data`)."""


@pytest.fixture
def people(agencies):  # type: ignore[no-untyped-def]
    return {
        "reader": UserFactory(username="dcfs_reader", agency=agencies["DCFS"], role="supervisor"),
        "auditor": UserFactory(username="dcfs_auditor", agency=agencies["DCFS"], role="auditor"),
        "sheriff_auditor": UserFactory(username="sheriff_auditor", agency=agencies["SHERIFF"], role="auditor"),
    }


def reads(user, youth_ids) -> None:  # type: ignore[no-untyped-def]
    """As the case views write them: one `view` event per record opened."""
    for youth in youth_ids:
        audit_record(actor=user, action=AuditEvent.Action.VIEW, object_type="case", object_id=youth, youth_id=youth)


def test_the_auditor_is_alerted_after_60_reads_outside_the_caseload_in_ten_minutes(  # type: ignore[no-untyped-def]
    people, eager_celery, django_capture_on_commit_callbacks
):
    # given: a supervisor opens 60 youth's records in ten minutes, on none of their teams
    with time_machine.travel(DAYTIME, tick=False):
        reads(people["reader"], range(1000, 1060))
    with time_machine.travel(DAYTIME + dt.timedelta(minutes=5), tick=False):
        # when: the beat task runs (twice: the second finds the same burst already alerted)
        with django_capture_on_commit_callbacks(execute=True):
            raised = access_alerts_task()
        again = access_alerts_task()

    # then: one alert, to the reader's agency's auditor, ids and counts only
    assert raised == 1 and again == 0
    alert = AccessAlert.objects.get()
    assert (alert.kind, alert.reader_id, alert.count) == ("bulk_reads", people["reader"].pk, 60)
    notice = Notification.objects.get(rule="access_alert")
    assert notice.recipient_id == people["auditor"].pk
    assert f"user {people['reader'].pk}" in notice.reference
    assert "dcfs_reader" not in notice.reference
    assert not Notification.objects.filter(recipient=people["sheriff_auditor"]).exists()
    assert any("Access alert" in m.subject for m in mail.outbox)
    assert all("dcfs_reader" not in m.subject + m.body for m in mail.outbox)


def test_reads_inside_the_caseload_and_under_the_threshold_raise_nothing(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(DAYTIME, tick=False):
        reads(people["reader"], range(2000, 2040))
        assert access_alerts_task() == 0


def test_a_system_admins_threshold_is_used(people):  # type: ignore[no-untyped-def]
    OversightSettings.objects.create(bulk_reads=5)
    with time_machine.travel(DAYTIME, tick=False):
        reads(people["reader"], range(3000, 3008))
        assert access_alerts_task() == 1


def test_a_burst_of_duplicate_searches_alerts(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(DAYTIME, tick=False):
        for _ in range(25):
            audit_record(actor=people["reader"], action=AuditEvent.Action.SEARCH, object_type="youth_match")
        access_alerts_task()
    assert AccessAlert.objects.get().kind == "duplicate_searches"


def test_reads_at_unusual_hours_alert_once_a_night(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(NIGHT, tick=False):
        reads(people["reader"], [4001] * 12)
        assert access_alerts_task() == 1
    with time_machine.travel(NIGHT + dt.timedelta(hours=1), tick=False):
        reads(people["reader"], [4001] * 5)
        assert access_alerts_task() == 0
    with time_machine.travel(DAYTIME, tick=False):
        reads(people["reader"], [4001] * 12)
        assert access_alerts_task() == 0
    assert AccessAlert.objects.get().kind == "unusual_hours"


def test_the_lead_agencys_supervisor_sees_who_read_the_case(agencies):  # type: ignore[no-untyped-def]
    # given: a DCFS case its worker and supervisor have opened
    worker = UserFactory(
        username="dcfs_worker", first_name="Wanda", last_name="Worker", agency=agencies["DCFS"], role="case_worker"
    )
    supervisor = UserFactory(username="dcfs_supervisor", agency=agencies["DCFS"], role="supervisor")
    sheriff_supervisor = UserFactory(username="sheriff_supervisor", agency=agencies["SHERIFF"], role="supervisor")
    referral = refer(
        worker, to="DCFS", youth={"first_name": "Readfirst", "last_name": "Readlast", "date_of_birth": "2010-01-01"}
    )
    case = Case.objects.get(pk=accept(supervisor, referral["id"])["case"])
    assert client_for(worker).get(f"/api/v1/cases/{case.pk}/").status_code == 200

    # when
    response = client_for(supervisor).get(f"/api/v1/cases/{case.pk}/readers/")

    # then: names, agencies, roles and times; no content
    assert response.status_code == 200, response.content
    rows = {r["name"]: r for r in response.json()["results"]}
    assert rows["Wanda Worker"]["agency"] == "DCFS" and rows["Wanda Worker"]["reads"] >= 1
    assert "Readfirst" not in response.content.decode()
    assert AuditEvent.objects.filter(
        object_type="case_readers", object_id=str(case.pk), youth_id=case.youth_id
    ).exists()
    # and: a case worker of the case is refused (403); another agency does not see the case (404)
    assert client_for(worker).get(f"/api/v1/cases/{case.pk}/readers/").status_code == 403
    assert client_for(sheriff_supervisor).get(f"/api/v1/cases/{case.pk}/readers/").status_code == 404


def test_reads_of_the_youths_other_records_by_agencies_outside_the_case_stay_out(agencies):  # type: ignore[no-untyped-def]
    """Found by review: the readers list took every read of the youth, so the lead learned that
    another agency had read a record of the child the lead cannot see (SPEC §1)."""
    worker = UserFactory(username="dcfs_worker2", agency=agencies["DCFS"], role="case_worker")
    supervisor = UserFactory(username="dcfs_supervisor2", agency=agencies["DCFS"], role="supervisor")
    outsider = UserFactory(
        username="probation_reader", first_name="Otto", last_name="Outside", agency=agencies["PROBATION"]
    )
    referral = refer(
        worker, to="DCFS", youth={"first_name": "Otherrec", "last_name": "Youth", "date_of_birth": "2010-02-02"}
    )
    case = Case.objects.get(pk=accept(supervisor, referral["id"])["case"])
    # given: Probation opens a record of the same child that is not this case (ids only)
    audit_record(
        actor=outsider, action=AuditEvent.Action.VIEW, object_type="case", object_id=999_999, youth_id=case.youth_id
    )

    rows = client_for(supervisor).get(f"/api/v1/cases/{case.pk}/readers/").json()["results"]

    assert "Otto Outside" not in {r["name"] for r in rows}
    assert {r["agency"] for r in rows} <= {"DCFS"}
