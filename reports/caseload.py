"""The caseload export (SPEC §9): a case worker's or supervisor's own open caseload as CSV, the
minimum necessary — case number, status, court, lead agency, open deadlines (rule and due time).
Never a name, a date of birth, an address or clinical content. The cases are the ones the
reader sees (cases.selectors.visibility: a worker's team cases, a supervisor's agency's), and the
export is audited with the ids exported."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.models import Case
from cases.selectors.visibility import case_list_visible_to
from notifications.models import Deadline

COLUMNS = ("number", "status", "court", "lead_agency", "open_deadlines")


def caseload_rows(*, user: Any) -> list[dict[str, Any]]:
    cases = list(
        case_list_visible_to(user=user)
        .filter(status=Case.Status.OPEN)
        .select_related("lead_agency")
        .only("id", "youth_id", "number", "status", "court", "lead_agency__code")
        .order_by("number")
    )
    deadlines: dict[int, list[str]] = defaultdict(list)
    open_ = Deadline.objects.filter(case_id__in=[c.pk for c in cases], status__in=Deadline.ACTIVE).order_by("due_at")
    for case_id, code, due_at in open_.values_list("case_id", "rule__code", "due_at"):
        deadlines[case_id].append(f"{code} {due_at.isoformat()}")
    return [
        {
            "id": c.pk,
            "youth_id": c.youth_id,
            "number": c.number,
            "status": c.status,
            "court": c.court,
            "lead_agency": c.lead_agency.code,
            "open_deadlines": "; ".join(deadlines[c.pk]),
        }
        for c in cases
    ]


def caseload_export(*, user: Any, via: str = "api") -> str:
    """The CSV, and one `export` event naming every case and youth id in it (`via`: the API or
    the web app)."""
    rows = caseload_rows(user=user)
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORT,
        object_type="caseload",
        object_id=user.pk,
        detail={
            "format": "csv",
            "via": via,
            "case_ids": [r["id"] for r in rows],
            "youth_ids": sorted({r["youth_id"] for r in rows}),
        },
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
    return out.getvalue()
