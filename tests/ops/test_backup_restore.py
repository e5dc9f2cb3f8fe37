"""The restore runbook, done (docs/operations.md "Backups and restore"): dump a seeded
PostgreSQL database with pg_dump, restore it into a new database with pg_restore, and on the
restored database `audit_verify` passes against the last checkpoint, every table's count
matches, and the service serves a case."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from tests.cases.factories import open_case
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _pg_env(settings_dict: dict) -> dict[str, str]:
    import os

    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _pg_args(settings_dict: dict) -> list[str]:
    args = []
    if settings_dict.get("HOST"):
        args += ["-h", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["-p", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["-U", str(settings_dict["USER"])]
    return args


def _counts(dbname: str, settings_dict: dict, tables: list[str]) -> dict[str, int]:
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
    out = subprocess.run(
        ["psql", *_pg_args(settings_dict), "-d", dbname, "-At", "-F", "\t", "-c", sql],
        env=_pg_env(settings_dict),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name: int(n) for name, n in (line.split("\t") for line in out.splitlines() if line)}


@pytest.fixture
def seeded(agencies, settings, tmp_path):  # type: ignore[no-untyped-def]
    from audit.services.chain import audit_seal
    from audit.services.checkpoints import audit_checkpoint
    from cases import bootstrap

    settings.HARBOR_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    bootstrap.run()
    __import__("notifications.bootstrap").bootstrap.run()
    worker = UserFactory(username="cw", agency=agencies["DCFS"], role="case_worker")
    supervisor = UserFactory(username="sup", agency=agencies["DCFS"], role="supervisor")
    case = open_case(worker, supervisor)
    client_for(supervisor).get(f"/api/v1/cases/{case.pk}/")  # a read: an audit event more
    audit_seal()
    audit_checkpoint()
    return case, supervisor, Path(settings.HARBOR_AUDIT_CHECKPOINT_FILE)


def test_a_nightly_dump_restores_verifies_and_serves(seeded, tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore are needed (PostgreSQL client tools)")
    case, supervisor, checkpoints = seeded
    source = dict(connection.settings_dict)
    restored = f"{source['NAME']}_restored"
    dump = tmp_path / "harbor.dump"

    # when: the runbook's steps — the nightly dump, a new database, the restore
    subprocess.run(
        ["pg_dump", *_pg_args(source), "--format=custom", "--no-owner", "-f", str(dump), source["NAME"]],
        env=_pg_env(source),
        check=True,
    )
    subprocess.run(["dropdb", *_pg_args(source), "--if-exists", restored], env=_pg_env(source), check=True)
    subprocess.run(["createdb", *_pg_args(source), restored], env=_pg_env(source), check=True)
    try:
        subprocess.run(
            ["pg_restore", *_pg_args(source), "--no-owner", "--exit-on-error", "-d", restored, str(dump)],
            env=_pg_env(source),
            check=True,
        )

        # then: every table holds as many rows as the source
        tables = connection.introspection.table_names()
        before = _counts(source["NAME"], source, tables)
        assert before["audit_auditevent"] > 0 and before["cases_case"] == 1
        assert _counts(restored, source, tables) == before

        # and the service, pointed at the restored database, verifies the audit and serves the case
        default = connections["default"]
        default.close()
        default.settings_dict["NAME"] = restored
        try:
            call_command("audit_verify", "--checkpoint", str(checkpoints))
            response = client_for(supervisor).get(f"/api/v1/cases/{case.pk}/")
            assert response.status_code == 200, response.content
            assert response.json()["id"] == case.pk
            from cases.models import Youth

            assert Youth.objects.get(pk=case.youth_id).first_name == "Jasmine"  # the field keys decrypt it
        finally:
            default.close()
            default.settings_dict["NAME"] = source["NAME"]
    finally:
        subprocess.run(["dropdb", *_pg_args(source), "--if-exists", restored], env=_pg_env(source), check=False)
