"""The Reports pages (issue 17, SPEC §9): the reports a person may read, one report's suppressed
tables with a bar chart each, and the CSV downloads.

Everything comes through the API's own report functions (reports.reporting.report_answer,
report_csv; reports.caseload.caseload_export), so the pages read what the API answers, with
the same suppression and the same `export` audit event per answer. The API takes token
authentication only (config.settings REST_FRAMEWORK), so a signed-in browser cannot download
the API's CSV: the CSV links point at these views, which answer the API's CSV body and headers.

Who: as the API — supervisors, analysts and system admins read the reports (reports.apis
ReportApi's permission), case workers and supervisors export their caseload. The API answers
any other role 403; a page refused for the role answers the web's 404, as every other page of
the app does for a role its API refuses (tests/web/page_matrix.csv). A supervisor asking for
another agency's report gets the API's refusal, the web's 403 page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse

from accounts.models import Agency
from core.errors import ApplicationError
from core.permissions import Role, is_analyst, is_system_admin, role_of
from reports import caseload, reporting
from reports.catalogue import REPORTS
from reports.periods import Quarter

from .common import page, render_page, signed_in_user

#: The roles of reports.apis.ReportListApi/ReportApi and CaseloadExportApi.
REPORT_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SUPERVISOR, Role.ANALYST})
CASELOAD_ROLES = frozenset({Role.CASE_WORKER, Role.SUPERVISOR})
#: The API's query parameters of one report.
PARAMS = ("from", "to", "agency", "by")

# The bar chart's geometry (SVG user units; the SVG scales to its container).
CHART_WIDTH = 720
LABEL_WIDTH = 260
BAR_SPACE = 380
ROW_HEIGHT = 30
BAR_HEIGHT = 18
PAD = 8


def may_read_reports(user: Any) -> bool:
    return role_of(user) in REPORT_ROLES


def may_export_caseload(user: Any) -> bool:
    return role_of(user) in CASELOAD_ROLES


def _require(request: HttpRequest, allowed: bool) -> None:
    """The API's 403 for the role is the web's 404 (see the module's docstring)."""
    signed_in_user(request)
    if not allowed:
        raise Http404


def _county_wide(user: Any) -> bool:
    """Reads the county's reports, or any agency's (reports.reporting.report_scope)."""
    return is_system_admin(user) or (is_analyst(user) and user.agency is not None and user.agency.is_county_wide)


class ReportFilterForm(forms.Form):
    """The API's filters: a whole calendar quarter (Pacific time), the agency, the breakdown.
    Only shown and echoed here: report_answer checks them, as it does for the API."""

    from_ = forms.CharField(
        label="From",
        required=False,
        help_text="The first day of a calendar quarter (Pacific time), e.g. 2026-07-01.",
        widget=forms.DateInput(attrs={"type": "date", "class": "usa-input"}),
    )
    to = forms.CharField(
        label="To",
        required=False,
        help_text="The last day of the same quarter, e.g. 2026-09-30.",
        widget=forms.DateInput(attrs={"type": "date", "class": "usa-input"}),
    )
    agency = forms.ChoiceField(label="Agency", required=False, widget=forms.Select(attrs={"class": "usa-select"}))
    by = forms.ChoiceField(label="Breakdown", required=False, widget=forms.Select(attrs={"class": "usa-select"}))

    def __init__(self, data: Any, *, user: Any, breakdowns: tuple[str, ...]) -> None:
        super().__init__(data)
        agency, by = self.fields["agency"], self.fields["by"]
        assert isinstance(agency, forms.ChoiceField) and isinstance(by, forms.ChoiceField)
        if _county_wide(user):
            agencies = [(a.code, f"{a.code} — {a.name}") for a in Agency.objects.order_by("code")]
            agency.choices = [("", "The county (all agencies)"), *agencies]
        else:
            del self.fields["agency"]
        if len(breakdowns) > 1:
            by.choices = [(b, b.replace("_", " ").capitalize()) for b in breakdowns]
        else:
            del self.fields["by"]

    def add_prefix(self, field_name: str) -> str:
        """The field `from_` is the query's `from` (a Python keyword): its name and id."""
        return "from" if field_name == "from_" else field_name


def _params(request: HttpRequest) -> dict[str, str]:
    """The query's filters, exactly as the API reads them."""
    return {k: request.GET.get(k, "") for k in PARAMS}


def _query(answer: dict[str, Any], params: dict[str, str]) -> dict[str, str]:
    """The filters an answer was made with, to link its CSV and the quarters beside it."""
    query = {"from": answer["period"]["from"], "to": answer["period"]["to"]}
    if params.get("agency"):
        query["agency"] = params["agency"]
    if params.get("by"):
        query["by"] = answer["by"]
    return query


def _quarter_link(quarter: Quarter, query: dict[str, str], name: str) -> str:
    moved = {**query, "from": quarter.first_day.isoformat(), "to": quarter.last_day.isoformat()}
    return f"/app/reports/{name}/?{urlencode(moved)}"


def _previous(quarter: Quarter) -> Quarter:
    return Quarter(quarter.year - 1, 4) if quarter.number == 1 else Quarter(quarter.year, quarter.number - 1)


def chart(table: dict[str, Any]) -> dict[str, Any]:
    """A horizontal bar per row of the table, its length the row's total as shown: drawn from
    the shown numbers only. A suppressed total (`<11`, `*`) draws no bar and shows its mark."""
    shown = [row["total"] for row in table["rows"] if isinstance(row["total"], int)]
    largest = max(shown, default=0)
    bars = []
    for i, row in enumerate(table["rows"]):
        value = row["total"]
        counted = isinstance(value, int)
        width = round(BAR_SPACE * value / largest) if counted and largest else 0
        y = PAD + i * ROW_HEIGHT
        bars.append(
            {
                "label": row["row"],
                "value": value,
                "suppressed": not counted,
                "width": width,
                "y": y,
                "text_y": y + BAR_HEIGHT - 4,
                "value_x": LABEL_WIDTH + width + 6,
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": 2 * PAD + max(len(bars), 1) * ROW_HEIGHT,
        "label_x": LABEL_WIDTH - 8,
        "bar_x": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "summary": "; ".join(f"{b['label']}: {b['value']}" for b in bars) or "No rows",
    }


def _tables(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Each table of the answer as the template shows it: the API's table unchanged, the row
    measures beyond the counts (medians, shares) named, and its chart."""
    shown = []
    for key, table in answer["tables"].items():
        extras = sorted({k for row in table["rows"] for k in row} - {"row", "cells", "total"})
        rows = [{**row, "extras": [row.get(k) for k in extras]} for row in table["rows"]]
        # A measure of the whole table (frp-timeliness's share within) sits under its column.
        table_extras = [table.get(k) for k in extras]
        shown.append(
            {
                "key": key,
                "columns": table["columns"],
                "extras": extras,
                "rows": rows,
                "totals": table["totals"],
                "total": table["total"],
                "table_extras": table_extras,
                "chart": chart(table),
            }
        )
    return shown


@page(audit_object_type="report")
def report_list(request: HttpRequest) -> HttpResponse:
    """The reports of GET /api/v1/reports/ (not audited there either: a list of names)."""
    user = signed_in_user(request)
    _require(request, may_read_reports(user))
    rows = [{"name": r.name, "title": r.title, "description": r.description} for r in REPORTS.values()]
    return render_page(
        request,
        "web/reports/list.html",
        {"reports": rows, "caseload": may_export_caseload(user)},
        nav="reports",
    )


@page(audit_object_type="report")
def report_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One report as GET /api/v1/reports/{name}/ answers it (one `export` event, format html)."""
    user = signed_in_user(request)
    _require(request, may_read_reports(user))
    report = REPORTS.get(name)
    if report is None:
        raise Http404
    params = _params(request)
    form = ReportFilterForm(request.GET, user=user, breakdowns=report.breakdowns)
    form.is_valid()
    context: dict[str, Any] = {"report": report, "form": form}
    try:
        answer = reporting.report_answer(actor=user, name=name, params=params, format="html", via="web")
    except ApplicationError as exc:
        if exc.status_code != 400:
            raise  # another agency's report: the API's 403, the web's 403 page
        form.add_error(None, exc.message)
        for field, messages in exc.fields.items():
            target = "from_" if field == "from" else field
            for message in messages:
                form.add_error(target if target in form.fields else None, message)
        return render_page(request, "web/reports/detail.html", context, nav="reports", status=400)
    if not form.data.get("from"):
        # The default quarter (the last complete one) in the date fields, as the answer has it.
        form = ReportFilterForm(
            {**params, "from": answer["period"]["from"], "to": answer["period"]["to"]},
            user=user,
            breakdowns=report.breakdowns,
        )
        form.is_valid()
    query = _query(answer, params)
    quarter = Quarter.of(dt.date.fromisoformat(answer["period"]["from"]))
    context.update(
        {
            "form": form,
            "answer": answer,
            "tables": _tables(answer),
            "csv_link": f"/app/reports/{name}/csv/?{urlencode(query)}",
            "previous_link": _quarter_link(_previous(quarter), query, name),
            "next_link": _quarter_link(quarter.next(), query, name),
            "county_wide": _county_wide(user),
            "period_from": quarter.first_day,
            "period_to": quarter.last_day,
        }
    )
    return render_page(request, "web/reports/detail.html", context, nav="reports")


@page(audit_object_type="report")
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    """The API's CSV of one report (GET /api/v1/reports/{name}/?format=csv): its body, its file
    name, its `export` event (format csv)."""
    user = signed_in_user(request)
    _require(request, may_read_reports(user))
    if name not in REPORTS:
        raise Http404
    answer = reporting.report_answer(actor=user, name=name, params=_params(request), format="csv", via="web")
    response = HttpResponse(reporting.report_csv(answer), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{answer["period"]["quarter"]}.csv"'
    return response


@page(audit_object_type="caseload")
def caseload_csv(request: HttpRequest) -> HttpResponse:
    """The API's caseload export (GET /api/v1/reports/caseload/): the same CSV, the same
    `export` event with the case and youth ids exported."""
    user = signed_in_user(request)
    _require(request, may_export_caseload(user))
    response = HttpResponse(caseload.caseload_export(user=user, via="web"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="caseload.csv"'
    return response
