"""The §9 reports over HTTP: who reads which, whole quarters only, suppression applied to every
count, csec_status counted from its history, each answer audited as `export`."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine

from accounts.models import Agency
from audit.models import AuditEvent
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.security.flows.test_sharing import accept, refer

pytestmark = pytest.mark.django_db

IN_Q3 = dt.datetime(2026, 8, 12, 18, 0, tzinfo=dt.UTC)
Q3 = {"from": "2026-07-01", "to": "2026-09-30"}


@pytest.fixture(autouse=True)
def _bootstrapped(reference_data):  # type: ignore[no-untyped-def]
    """Every test here runs on the reference data (tests/conftest.py `reference_data`)."""


@pytest.fixture
def people(agencies):  # type: ignore[no-untyped-def]
    court = Agency.objects.create(code="COURT", name="Court", kind=Agency.Kind.COURT, is_county_wide=True)
    return {
        "dcfs_worker": UserFactory(username="dcfs_worker", agency=agencies["DCFS"], role="case_worker"),
        "dcfs_supervisor": UserFactory(username="dcfs_supervisor", agency=agencies["DCFS"], role="supervisor"),
        "dcfs_analyst": UserFactory(username="dcfs_analyst", agency=agencies["DCFS"], role="analyst"),
        "court_analyst": UserFactory(username="court_analyst", agency=court, role="analyst"),
        "sheriff_supervisor": UserFactory(username="sheriff_supervisor", agency=agencies["SHERIFF"], role="supervisor"),
        "auditor": UserFactory(username="dcfs_auditor", agency=agencies["DCFS"], role="auditor"),
        "root": UserFactory(username="root", agency=None, role="system_admin", is_superuser=True),
    }


def open_cases(people, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        youth = {
            "first_name": f"Rep{chr(97 + i % 26)}{chr(97 + i // 26)}",
            "last_name": "Youth",
            "date_of_birth": "2011-03-04",
        }
        referral = refer(people["dcfs_worker"], to="DCFS", youth=youth)
        ids.append(accept(people["dcfs_supervisor"], referral["id"])["case"])
    return ids


def set_csec(people, case_id: int, status: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(people["dcfs_supervisor"])
    etag = client.get(f"/api/v1/cases/{case_id}/")["ETag"]
    response = client.patch(f"/api/v1/cases/{case_id}/", {"csec_status": status}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content


def report(user, name: str, **params):  # type: ignore[no-untyped-def]
    return client_for(user).get(f"/api/v1/reports/{name}/", {**Q3, **params})


def every_count(table: dict) -> list:
    return [c for row in table["rows"] for c in [*row["cells"], row["total"]]] + [*table["totals"], table["total"]]


def test_the_reports_are_listed_for_those_who_read_them(people):  # type: ignore[no-untyped-def]
    response = client_for(people["dcfs_analyst"]).get("/api/v1/reports/")
    assert response.status_code == 200
    assert {r["name"] for r in response.json()["results"]} == {
        "csec-identification",
        "frp-timeliness",
        "deadline-compliance",
        "missing-episodes",
        "mdt-activity",
    }
    for role in ("dcfs_worker", "auditor"):
        assert client_for(people[role]).get("/api/v1/reports/").status_code == 403


def test_an_analyst_downloads_the_quarterly_identification_report_with_nothing_from_1_to_10(people):  # type: ignore[no-untyped-def]
    # given: 14 youth identified in care and 3 while missing in Q3, one of them first before care
    with time_machine.travel(IN_Q3, tick=False):
        cases = open_cases(people, 17)
        set_csec(people, cases[0], "before_care")
        for case_id in cases[:14]:
            set_csec(people, case_id, "in_care")
        for case_id in cases[14:]:
            set_csec(people, case_id, "while_missing")
        set_csec(people, cases[1], "in_care")  # unchanged: no second count

        # when
        response = report(people["dcfs_analyst"], "csec-identification", format="csv")

    # then
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == 'attachment; filename="csec-identification-2026-Q3.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = next(r for r in rows if r[:1] == ["table"])
    assert header[:6] == ["table", "agency", "before_care", "in_care", "while_missing", "total"]
    body = [r for r in rows if r[:1] == ["table"] or (r and r[0] == "table")]
    assert body
    dcfs = next(r for r in rows if r[1:2] == ["DCFS"])
    assert dcfs[3] == "14"  # 14 identified in care: shown
    assert dcfs[2] == "<11" and dcfs[4] == "<11"  # 1 before care, 3 while missing: suppressed
    values = [v for r in rows for v in r[2:] if v.isdigit()]
    assert not [v for v in values if 1 <= int(v) <= 10]
    event = AuditEvent.objects.filter(action="export", object_type="report").latest("id")
    assert event.object_id == "csec-identification" and event.actor_id == people["dcfs_analyst"].pk


def test_the_count_comes_from_the_history_not_the_current_status(people):  # type: ignore[no-untyped-def]
    # given: 12 identified in care in Q3, then moved to while missing in Q4
    with time_machine.travel(IN_Q3, tick=False):
        cases = open_cases(people, 12)
        for case_id in cases:
            set_csec(people, case_id, "in_care")
    with time_machine.travel(IN_Q3 + dt.timedelta(days=90), tick=False):
        for case_id in cases:
            set_csec(people, case_id, "while_missing")
        # when
        q3 = report(people["dcfs_supervisor"], "csec-identification").json()
        q4 = report(people["dcfs_supervisor"], "csec-identification", **{"from": "2026-10-01", "to": "2026-12-31"})

    # then: Q3 still counts the 12 in care; Q4 counts 12 while missing
    assert q3["tables"]["table"]["totals"] == [0, 12, 0]
    assert q4.json()["tables"]["table"]["totals"] == [0, 0, 12]


def test_a_report_answers_whole_quarters_only(people):  # type: ignore[no-untyped-def]
    response = report(people["dcfs_supervisor"], "csec-identification", **{"from": "2026-07-01", "to": "2026-08-31"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"from", "to"}


def test_a_supervisor_reads_their_agency_only(people):  # type: ignore[no-untyped-def]
    own = report(people["dcfs_supervisor"], "frp-timeliness")
    assert own.status_code == 200 and own.json()["scope"] == "DCFS"
    assert report(people["dcfs_supervisor"], "frp-timeliness", agency="SHERIFF").status_code == 403
    assert report(people["dcfs_analyst"], "frp-timeliness", agency="SHERIFF").status_code == 403


def test_a_county_wide_analyst_and_a_system_admin_read_the_county(people):  # type: ignore[no-untyped-def]
    assert report(people["court_analyst"], "missing-episodes").json()["scope"] == "COUNTY"
    assert report(people["court_analyst"], "missing-episodes", agency="SHERIFF").json()["scope"] == "SHERIFF"
    assert report(people["root"], "mdt-activity").json()["scope"] == "COUNTY"
    assert report(people["dcfs_analyst"], "missing-episodes").json()["scope"] == "DCFS"


def test_no_report_is_read_by_case_workers_auditors_or_anonymous(people, api_client):  # type: ignore[no-untyped-def]
    assert report(people["dcfs_worker"], "deadline-compliance").status_code == 403
    assert report(people["auditor"], "deadline-compliance").status_code == 403
    assert api_client.get("/api/v1/reports/deadline-compliance/").status_code == 401
    assert report(people["root"], "no-such-report").status_code == 404


def test_a_supervisor_reads_their_agencys_frp_timeliness(people):  # type: ignore[no-untyped-def]
    # given: 12 referrals whose responders arrived within 90 minutes
    with time_machine.travel(IN_Q3, tick=False):
        for i in range(12):
            youth = {"first_name": f"Frp{chr(97 + i)}", "last_name": "Youth", "date_of_birth": "2011-03-04"}
            body = {
                "youth": youth,
                "receiving_agency": "DCFS",
                "received_at": (IN_Q3 - dt.timedelta(minutes=60)).isoformat(),
                "recovered_at": (IN_Q3 - dt.timedelta(minutes=60)).isoformat(),
                "responder_arrived_at": (IN_Q3 - dt.timedelta(minutes=20)).isoformat(),
                "source": "law_enforcement_recovery",
                "indicators": [],
            }
            created = client_for(people["dcfs_worker"]).post("/api/v1/referrals/", body, format="json")
            assert created.status_code == 201, created.content
    with time_machine.travel(IN_Q3 + dt.timedelta(hours=2), tick=False):
        # when
        response = report(people["dcfs_supervisor"], "frp-timeliness")

    # then
    assert response.status_code == 200, response.content
    tables = response.json()["tables"]
    responders = tables["responders_within_90_minutes"]
    for table in tables.values():
        assert not [v for v in every_count(table) if isinstance(v, int) and 1 <= v <= 10]
    assert responders["total"] == 12
    assert responders["rows"][0]["row"] == "DCFS"
    assert responders["rows"][0]["cells"][0] == 12 and responders["rows"][0]["share_within"] == 1.0
    assert responders["rows"][0]["median_minutes"] == 40.0
    services = tables["services_within_72_hours"]
    assert services["rows"][0]["cells"][3] == 12  # still open: within its 72 hours


def test_deadline_compliance_and_mdt_activity_answer_tables(people):  # type: ignore[no-untyped-def]
    with time_machine.travel(IN_Q3, tick=False):
        open_cases(people, 2)
    with time_machine.travel(IN_Q3 + dt.timedelta(days=1), tick=False):
        compliance = report(people["root"], "deadline-compliance").json()
        mdt = report(people["root"], "mdt-activity").json()
    table = compliance["tables"]["table"]
    assert table["columns"] == ["met_on_time", "met_late", "missed", "waived", "not_applicable", "open"]
    assert not [v for v in every_count(table) if isinstance(v, int) and 1 <= v <= 10]
    assert all(" " in row["row"] for row in table["rows"])  # "rule AGENCY"
    # The FRP clocks are frp-timeliness's alone: in both, one report's totals would uncover the
    # other's suppressed cells (found by review: DMH's hidden `waived` recovered exactly).
    assert not [row for row in table["rows"] if row["row"].split()[0] in {"first_response_90m", "frp_services_72h"}]
    assert set(mdt["tables"]) == {"cases_reviewed", "action_items"}


def test_a_refused_csv_request_answers_json(people):  # type: ignore[no-untyped-def]
    response = report(people["dcfs_worker"], "csec-identification", format="csv")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert client_for(people["auditor"]).get("/api/v1/reports/caseload/")["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("status", "met_late", "outcome"),
    [
        ("met", False, "met_on_time"),
        ("met", True, "met_late"),
        ("missed", False, "missed"),
        ("waived", False, "waived"),
        ("cancelled", False, "not_applicable"),
        ("not_applicable", False, "not_applicable"),
        ("superseded", False, None),  # the deadline that carries the duty is counted instead
    ],
)
def test_each_deadline_status_has_its_compliance_column(status, met_late, outcome):  # type: ignore[no-untyped-def]
    from reports.catalogue import _deadline_outcome

    due = IN_Q3
    met = due + dt.timedelta(hours=1 if met_late else -1) if status == "met" else None
    assert _deadline_outcome(status, due, met, IN_Q3 + dt.timedelta(days=1)) == outcome


def open_agency_cases(people, agency: str, born: str, n: int, tag: str) -> list[int]:  # type: ignore[no-untyped-def]
    """n cases led by `agency` (DCFS or SHERIFF), youth born on `born`, identified in care."""
    worker, supervisor = people["dcfs_worker"], people[f"{agency.lower()}_supervisor"]
    ids = []
    for i in range(n):
        youth = {"first_name": f"Sub{tag}{chr(97 + i % 26)}", "last_name": "Youth", "date_of_birth": born}
        case_id = accept(supervisor, refer(worker, to=agency, youth=youth)["id"])["case"]
        client = client_for(supervisor)
        etag = client.get(f"/api/v1/cases/{case_id}/")["ETag"]
        patched = client.patch(
            f"/api/v1/cases/{case_id}/", {"csec_status": "in_care"}, format="json", HTTP_IF_MATCH=etag
        )
        assert patched.status_code == 200, patched.content
        ids.append(case_id)
    return ids


def test_a_county_wide_analyst_cannot_subtract_the_other_agencies_from_the_county(people):  # type: ignore[no-untyped-def]
    # given: identified in care in Q3 — DCFS 4 youth aged 12-14 and 11 aged 15-17, the Sheriff 11
    # and 11. Suppressed apart, the county's 12-14 (15) minus the Sheriff's (11) was DCFS's 4.
    with time_machine.travel(IN_Q3, tick=False):
        open_agency_cases(people, "DCFS", "2013-03-04", 4, "a")
        open_agency_cases(people, "DCFS", "2011-03-04", 11, "b")
        open_agency_cases(people, "SHERIFF", "2013-03-04", 11, "c")
        open_agency_cases(people, "SHERIFF", "2011-03-04", 11, "d")

        # when: the court's analyst (county-wide) fetches the county's table and every agency's,
        # in every breakdown
        analyst = people["court_analyst"]
        codes = list(Agency.objects.values_list("code", flat=True))
        tables = {}
        for by in ("agency", "court", "age_band", "gender_identity"):
            county = report(analyst, "csec-identification", by=by)
            assert county.status_code == 200, county.content
            tables[(None, by)] = county.json()["tables"]["table"]
            for code in codes:
                answer = report(analyst, "csec-identification", by=by, agency=code)
                assert answer.status_code == 200 and answer.json()["scope"] == code
                tables[(code, by)] = answer.json()["tables"]["table"]

    # then: DCFS's 4 is hidden, and for every hidden count of an agency, the county's count less
    # the other agencies' is never a number
    dcfs_ages = {row["row"]: row for row in tables[("DCFS", "age_band")]["rows"]}
    assert dcfs_ages["12_14"]["cells"][1] == "<11"

    def numbers(table: dict) -> dict:
        found = {("total", None): table["total"]}
        found.update({("column", j): v for j, v in enumerate(table["totals"])})
        for row in table["rows"]:
            found[(row["row"], None)] = row["total"]
            found.update({(row["row"], j): v for j, v in enumerate(row["cells"])})
        return found

    tried = 0
    for by in ("agency", "court", "age_band", "gender_identity"):
        county = numbers(tables[(None, by)])
        for code in codes:
            own = numbers(tables[(code, by)])
            for where, value in own.items():
                if isinstance(value, int):
                    continue
                tried += 1
                others = [numbers(tables[(other, by)]).get(where, 0) for other in codes if other != code]
                if isinstance(county.get(where), int) and all(isinstance(v, int) for v in others):
                    recovered = county[where] - sum(others)
                    raise AssertionError(f"{code} {by} {where}: county minus the others is {recovered}")
    assert tried  # there were hidden counts to attack
    for table in tables.values():
        assert not [v for v in every_count(table) if isinstance(v, int) and 1 <= v <= 10]
