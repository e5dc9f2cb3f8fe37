from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthedRequest
from core.permissions import Role, has_role

from . import access, caseload, oversight, reporting
from .catalogue import REPORTS


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        return data if isinstance(data, (str, bytes)) else JSONRenderer().render(data)


class ErrorsAsJsonMixin:
    """A refused or invalid request answers JSON, whatever `?format=csv` asked for."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and (response.exception or response.status_code >= 400):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class AgencyAccessReportApi(APIView):
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.AGENCY_ADMIN)]
    renderer_classes = [JSONRenderer, CSVRenderer]
    audit_object_type = "access_report"

    @extend_schema(
        responses={
            200: OpenApiResponse(description="The agency's access report (JSON, or CSV with ?format=csv)."),
        }
    )
    def get(self, request: AuthedRequest, code: str) -> Response:
        agency = access.access_report_agency(actor=request.user, code=code)
        report = access.access_report_build(actor=request.user, agency=agency)
        as_csv = request.accepted_renderer.format == CSVRenderer.format
        access.access_report_audit(
            actor=request.user, agency=agency, report=report, format="csv" if as_csv else "json", via="api"
        )
        headers = {"Cache-Control": "no-store"}
        if as_csv:
            headers["Content-Disposition"] = f'attachment; filename="access-report-{agency.code}.csv"'
            return Response(report.as_csv(), headers=headers, content_type="text/csv; charset=utf-8")
        return Response(report.as_dict(), headers=headers)


class ReportListApi(APIView):
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.SUPERVISOR, Role.ANALYST)]

    @extend_schema(
        operation_id="v1_reports_list",
        responses={200: OpenApiResponse(description="The reports of SPEC §9: name, title, breakdowns.")},
    )
    def get(self, request: AuthedRequest) -> Response:
        rows = [
            {"name": r.name, "title": r.title, "description": r.description, "breakdowns": list(r.breakdowns)}
            for r in REPORTS.values()
        ]
        return Response({"results": rows})


class CaseloadExportApi(ErrorsAsJsonMixin, APIView):
    permission_classes = [has_role(Role.CASE_WORKER, Role.SUPERVISOR)]
    renderer_classes = [CSVRenderer, JSONRenderer]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="Your open caseload (no names, no clinical)."
            )
        }
    )
    def get(self, request: AuthedRequest) -> Response:
        headers = {"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="caseload.csv"'}
        body = caseload.caseload_export(user=request.user)
        return Response(body, headers=headers, content_type="text/csv; charset=utf-8")


class ReportApi(ErrorsAsJsonMixin, APIView):
    permission_classes = [has_role(Role.SYSTEM_ADMIN, Role.SUPERVISOR, Role.ANALYST)]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="First day of a calendar quarter (YYYY-MM-DD)."),
            OpenApiParameter("to", str, description="Last day of the same quarter."),
            OpenApiParameter("agency", str, description="An agency code; none: your agency, or the county."),
            OpenApiParameter("by", str, description="The breakdown (see the list)."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The report's suppressed tables."
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The same tables as a CSV file."),
        },
    )
    def get(self, request: AuthedRequest, name: str) -> Response:
        as_csv = request.accepted_renderer.format == CSVRenderer.format
        params = {k: request.query_params.get(k, "") for k in ("from", "to", "agency", "by")}
        answer = reporting.report_answer(
            actor=request.user, name=name, params=params, format="csv" if as_csv else "json"
        )
        headers = {"Cache-Control": "no-store"}
        if as_csv:
            headers["Content-Disposition"] = f'attachment; filename="{name}-{answer["period"]["quarter"]}.csv"'
            return Response(reporting.report_csv(answer), headers=headers, content_type="text/csv; charset=utf-8")
        return Response(answer, headers=headers)


class CaseReadersApi(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="Who read the case's records and when.")})
    def get(self, request: AuthedRequest, pk: int) -> Response:
        return Response({"results": oversight.case_readers(actor=request.user, case_id=pk)})
