"""How every MDT list is paged and its reads audited (one INSERT per request)."""

from __future__ import annotations

from typing import Any

from rest_framework.views import APIView

from accounts.http import AuthedRequest
from audit.models import AuditEvent
from audit.services.record import AuditEntry, audit_record_many
from core.pagination import PageNumberPagination

Action = AuditEvent.Action


def audit_reads(request: AuthedRequest, entries: list[AuditEntry], *, empty: AuditEntry | None = None) -> None:
    """One INSERT: an event per object shown, or — for an empty page — one event for the read."""
    audit_record_many(actor=request.user, entries=entries or ([empty] if empty else []))


def empty_list(object_type: str, **detail: Any) -> AuditEntry:
    return AuditEntry(Action.LIST, object_type, "", detail={"results": 0, **detail})


def paginate(view: APIView, request: AuthedRequest, queryset: Any) -> tuple[PageNumberPagination, list[Any]]:
    paginator = PageNumberPagination()  # the views also name it, so the schema shows the envelope
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator, list(page or [])
