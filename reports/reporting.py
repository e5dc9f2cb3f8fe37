"""Who reads which §9 report over which records, and the audited answer (SPEC §1, §9).

Supervisors read their agency's; analysts their agency's, or the county's (or any agency's) for a
county-wide agency; system admins the county's or any agency's. Everyone else is refused (the
API's permission answers 403 before this runs)."""

from __future__ import annotations

import csv
import io
from typing import Any

from accounts.models import Agency
from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import is_analyst, is_supervisor, is_system_admin

from .catalogue import REPORTS, Report, Scope
from .periods import quarter_from


def report_get(name: str) -> Report:
    report = REPORTS.get(name)
    if report is None:
        raise ApplicationError("No report has that name; GET /api/v1/reports/ lists them.", code="not_found")
    return report


def report_scope(*, actor: Any, agency_code: str) -> Scope:
    county_wide = is_system_admin(actor) or (
        is_analyst(actor) and actor.agency is not None and actor.agency.is_county_wide
    )
    if not agency_code:
        if county_wide:
            return Scope(agency=None)
        return Scope(agency=actor.agency)
    agency = Agency.objects.filter(code=agency_code).first()
    if agency is None:
        raise ApplicationError("No agency has that code.", fields={"agency": ["Unknown agency."]})
    if county_wide or ((is_supervisor(actor) or is_analyst(actor)) and agency.pk == actor.agency_id):
        return Scope(agency=agency)
    raise ApplicationError("You read the reports of your own agency only.", code="forbidden")


def report_answer(
    *,
    actor: Any,
    name: str,
    params: dict[str, str],
    format: str,
    via: str = "api",  # noqa: A002
) -> dict[str, Any]:
    """The report as JSON-ready data, and one `export` audit event (ids and codes only; `via`:
    the API or the web app, for the auditor)."""
    report = report_get(name)
    quarter = quarter_from(params)
    scope = report_scope(actor=actor, agency_code=params.get("agency", ""))
    by = params.get("by") or report.breakdowns[0]
    if by not in report.breakdowns:
        raise ApplicationError("Unknown breakdown.", fields={"by": [f"One of: {', '.join(report.breakdowns)}."]})
    tables = report.build(quarter, scope, by)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        object_type="report",
        object_id=name,
        detail={"format": format, "via": via, "agency": scope.agency.code if scope.agency else None},
    )
    return {
        "report": name,
        "title": report.title,
        "period": {"quarter": quarter.label, "from": quarter.first_day.isoformat(), "to": quarter.last_day.isoformat()},
        "scope": scope.label,
        "by": by,
        "suppression": "Counts from 1 to 10 show as <11; cells hidden so they cannot be worked out show as *.",
        "tables": tables,
    }


def report_csv(answer: dict[str, Any]) -> str:
    """One file: per table its header (table, row, the columns, total, the extra measures), a
    row per breakdown value, and the totals row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["report", answer["report"], "quarter", answer["period"]["quarter"], "scope", answer["scope"]])
    for name, table in answer["tables"].items():
        extras = sorted({k for row in table["rows"] for k in row} - {"row", "cells", "total"})
        writer.writerow([])
        writer.writerow(["table", answer["by"], *table["columns"], "total", *extras])
        for row in table["rows"]:
            writer.writerow([name, row["row"], *row["cells"], row["total"], *(row.get(k) for k in extras)])
        writer.writerow([name, "total", *table["totals"], table["total"]])
    return out.getvalue()
