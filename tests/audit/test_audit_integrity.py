"""The audit log's integrity pieces (SPEC §5): one `list` event per page with the ids shown and
the youth they concern; details stripped to ids and field names; signed checkpoints written
outside the table; verification through the command and the API."""

from __future__ import annotations

import json
import logging
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from audit.models import AuditCheckpoint, AuditEvent, AuditVerifyJob
from audit.services.chain import audit_seal
from audit.services.checkpoints import checkpoints_from_file
from audit.services.detail import clean_detail
from audit.services.record import AuditEntry, audit_record, audit_record_many, mac_ok
from audit.services.verify import audit_verify, audit_verify_job_run
from core.middleware import request_id_from
from core.permissions import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.HARBOR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    return tmp_path / "checkpoints.jsonl"


@pytest.fixture
def worker(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="integrity_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER)


@pytest.fixture
def auditor(agencies):  # type: ignore[no-untyped-def]
    return UserFactory(username="integrity_auditor", agency=agencies["DCFS"], role=Role.AUDITOR)


def _page(actor, rows: list[tuple[int, int | None]], object_type: str = "case") -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        audit_record_many(
            actor=actor, entries=[AuditEntry(AuditEvent.Action.LIST, object_type, pk, youth) for pk, youth in rows]
        )


# --- one list event per page ---------------------------------------------------------------------


def test_a_list_page_is_one_event_with_the_ids_shown_and_their_youth(worker):
    # when: a page of three cases of two youth, and the view of something else in the same request
    with transaction.atomic():
        written = audit_record_many(
            actor=worker,
            entries=[
                AuditEntry(AuditEvent.Action.VIEW, "mdt_meeting", 9),
                *[AuditEntry(AuditEvent.Action.LIST, "case", pk, youth) for pk, youth in [(3, 41), (4, 42), (5, 41)]],
            ],
        )

    # then
    assert written == 2
    listed = AuditEvent.objects.get(action=AuditEvent.Action.LIST)
    assert (listed.object_ids, listed.youth_ids, listed.youth_id, listed.detail) == (
        [3, 4, 5],
        [41, 42],
        None,
        {"count": 3},
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id="9").exists()
    assert all(mac_ok(e) for e in AuditEvent.objects.all())


def test_a_page_about_one_child_keeps_it_on_the_indexed_column(worker):
    _page(worker, [(7, 41), (8, 41)], "case_note")
    event = AuditEvent.objects.get()
    assert (event.youth_id, event.youth_ids) == (41, [41])


def test_an_empty_page_is_still_one_event(worker):
    with transaction.atomic():
        audit_record_many(
            actor=worker, entries=[AuditEntry(AuditEvent.Action.LIST, "case", "", None, detail={"count": 0})]
        )
    event = AuditEvent.objects.get()
    assert (event.object_ids, event.youth_ids, event.detail) == ([], [], {"count": 0})


def test_the_youth_filter_finds_the_list_pages_that_showed_the_child(make_client, worker, auditor):
    """Both databases: PostgreSQL's array containment (GIN) and SQLite's json_each twin."""
    # given
    _page(worker, [(1, 41), (2, 42)])
    _page(worker, [(3, 43)])
    with transaction.atomic():
        audit_record(actor=worker, action=AuditEvent.Action.VIEW, object_type="youth", object_id=42, youth_id=42)

    # when
    response = make_client(auditor).get(f"{URL}?youth=42")

    # then: the view and the page that showed youth 42 — not the page that did not
    found = [(e["action"], e["object_ids"]) for e in response.json()["results"]]
    assert found == [("view", None), ("list", [1, 2])]
    assert AuditEvent.objects.filter(youth_ids__has=43).count() == 1
    assert AuditEvent.objects.filter(youth_ids__has=44).count() == 0


@pytest.mark.postgres
def test_who_looked_at_this_child_is_one_indexed_query_on_postgresql(worker):
    # given
    for i in range(30):
        _page(worker, [(i, 1000 + i), (i + 1, 2000 + i)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
        cursor.execute("SET LOCAL enable_seqscan = off")
        # when
        sql, params = AuditEvent.objects.filter(youth_ids__has=1007).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then
    assert "audit_youth_ids_gin" in plan, plan


# --- what a detail may carry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (
            {"case": 5, "hidden": True, "none": None, "ids": [1, 2]},
            {"case": 5, "hidden": True, "none": None, "ids": [1, 2]},
        ),
        ({"fields": ["first_name", "role"]}, {"fields": ["first_name", "role"]}),
        (
            {"agency": "DMH", "lead_agency": "DCFS", "agencies": ["DMH"]},
            {"agency": "DMH", "lead_agency": "DCFS", "agencies": ["DMH"]},
        ),
        ({"expires_at": "2027-01-01T00:00:00+00:00"}, {"expires_at": "2027-01-01T00:00:00+00:00"}),
        (
            {"method": "GET", "status": 404, "format": "pdf", "via": "feed"},
            {"method": "GET", "status": 404, "format": "pdf", "via": "feed"},
        ),
        ({"to": "accepted", "level": "high_concern"}, {"fields": ["level", "to"]}),
        ({"court": "STAR", "fields": ["court"]}, {"fields": ["court"]}),
        ({"narrative": "She said …", "case": 1}, {"case": 1, "fields": ["narrative"]}),
        ({"agency": "Jasmine Carter"}, {"fields": ["agency"]}),
        ({"expires_at": "next week"}, {"fields": ["expires_at"]}),
        ({"fields": ["Jasmine Carter"]}, {"fields": ["fields"]}),
        ({"Jasmine Carter": 1}, {}),
        ({"score": 0.93}, {"fields": ["score"]}),
        ({"email": {"WIC_300": True, "rule": "x"}}, {"email": {"WIC_300": True, "fields": ["rule"]}}),
    ],
)
def test_a_detail_keeps_ids_and_field_names_only(given, kept):
    assert clean_detail(given) == kept


def test_a_dropped_value_is_logged_by_key_never_by_value(worker, caplog):
    with caplog.at_level(logging.DEBUG, logger="audit"), transaction.atomic():
        audit_record(
            actor=worker, action="update", object_type="integrity_probe", detail={"secret_note": "Jasmine ran"}
        )
    assert "secret_note" in caplog.text and "Jasmine" not in caplog.text


# --- checkpoints ---------------------------------------------------------------------------------


def test_audit_checkpoint_seals_and_writes_a_signed_head_to_the_log_the_file_and_the_table(
    worker, checkpoint_file, caplog
):
    # given
    with transaction.atomic():
        for i in range(3):
            audit_record(actor=worker, action="view", object_type="case", object_id=i)

    # when
    out = StringIO()
    with caplog.at_level(logging.INFO, logger="audit.checkpoint"):
        call_command("audit_checkpoint", stdout=out)

    # then: the chain is sealed, and the same signed head is in all three places
    head = AuditEvent.objects.order_by("-seq").first()
    line = json.loads(out.getvalue())
    assert (line["seq"], line["hash"], line["count"]) == (head.seq, head.hash, 3)
    (from_file,), unreadable = checkpoints_from_file(checkpoint_file)
    assert unreadable == 0 and from_file.mac_ok() and from_file.line() == out.getvalue().strip()
    assert AuditCheckpoint.objects.get().mac == from_file.mac
    assert from_file.line() in caplog.text
    # and a log excerpt is a checkpoint file too
    excerpt = checkpoint_file.with_name("log.txt")
    excerpt.write_text(caplog.text)
    assert checkpoints_from_file(excerpt)[0] == [from_file]


def test_beat_writes_a_checkpoint_at_least_every_ten_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == "audit.tasks.audit_checkpoint_task" and entry["schedule"] <= 600


def test_the_beat_task_runs_the_same_code(worker):
    from audit.tasks import audit_checkpoint_task

    with transaction.atomic():
        audit_record(actor=worker, action="view", object_type="case", object_id=1)
    assert audit_checkpoint_task() == 1
    assert AuditCheckpoint.objects.get().seq == 1


# --- verification through the API ----------------------------------------------------------------


def test_an_auditor_verifies_a_small_log_at_once(make_client, auditor, worker):
    # given
    _page(worker, [(1, 41)])
    audit_seal()

    # when
    response = make_client(auditor).post(f"{URL}verify/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["checked"], body["findings"], body["broken_event_id"]) == (True, 1, [], None)
    assert AuditEvent.objects.filter(actor_id=auditor.pk, action="verify", outcome="success").exists()


def test_a_broken_log_is_named_through_the_api(make_client, auditor, worker):
    # given: an event the application did not write (no MAC)
    _page(worker, [(1, 41)])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_id, actor_agency, action, object_type, object_id, youth_id,"
            " outcome, request_id, client_ip, detail, prev_hash, hash, mac)"
            " VALUES (%s, NULL, '', 'view', 'case', '2', 41, 'success', '', '', '{}', '', '', '')",
            ["2026-12-01T00:00:00+00:00"],
        )
    forged = AuditEvent.objects.order_by("-id").first()

    # when
    body = make_client(auditor).post(f"{URL}verify/").json()

    # then
    assert (body["ok"], body["kind"], body["broken_event_id"]) == (False, "forged_insert", forged.pk)


def test_a_large_log_is_verified_by_a_job_to_poll(make_client, auditor, worker, settings):
    # given
    settings.HARBOR_AUDIT_VERIFY_SYNC_LIMIT = 0
    _page(worker, [(1, 41)])
    client = make_client(auditor)

    # when
    accepted = client.post(f"{URL}verify/")

    # then: a job, pending until the worker runs it
    assert accepted.status_code == 202
    job_id = accepted.json()["id"]
    assert client.get(f"{URL}verify/{job_id}/").json()["status"] == "pending"
    audit_verify_job_run(job_id=job_id)  # what the worker does (the task is sent on commit)
    done = client.get(f"{URL}verify/{job_id}/").json()
    assert (done["status"], done["result"]["ok"]) == ("done", True)
    assert AuditVerifyJob.objects.get().requested_by_id == auditor.pk


@pytest.mark.parametrize("role", [Role.CASE_WORKER, Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN])
def test_only_auditors_verify(make_client, agencies, auditor, role):
    from audit.services.verify import audit_verify_job_create

    user = UserFactory(username=f"v_{role}", agency=agencies["DCFS"], role=role)
    client = make_client(user)
    assert client.post(f"{URL}verify/").status_code == 403
    job = audit_verify_job_create(actor=auditor)
    assert client.get(f"{URL}verify/{job.pk}/").status_code == 403


def test_anonymous_verify_is_401(api_client):
    assert api_client.post(f"{URL}verify/").status_code == 401


def test_an_unknown_job_is_404(make_client, auditor):
    assert make_client(auditor).get(f"{URL}verify/999999/").status_code == 404


# --- request ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["abc", "A.b-c_9", "x" * 64])
def test_a_safe_request_id_is_kept_as_sent(sent):
    assert request_id_from(sent) == sent


@pytest.mark.parametrize("sent", ["", "x" * 65, "a b", "a\n", "ä", "a/b", "<script>", "a%20b"])
def test_anything_else_gets_a_fresh_request_id(sent):
    fresh = request_id_from(sent)
    assert fresh != sent and len(fresh) == 32


def test_verify_on_an_untampered_log_with_lists_and_checkpoints_is_ok(worker):
    from audit.services.checkpoints import audit_checkpoint

    _page(worker, [(1, 41), (2, 42)])
    audit_checkpoint()
    _page(worker, [(3, 43)])
    audit_checkpoint()
    result = audit_verify()
    assert (result.ok, result.checked, result.checkpoints) == (True, 2, 2)
