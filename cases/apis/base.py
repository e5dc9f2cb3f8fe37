"""What every case endpoint shares: the base views (case roles only; a refused action is
audited by the shared exception handler), paginated lists that audit each row shown, the list
and create of one kind of part of a visible case, and the audit of a read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model
from rest_framework import generics, serializers, status
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import IsAuthenticatedWithMfa
from audit.models import AuditEvent
from audit.services.record import AuditEntry, audit_record, audit_record_many
from core.pagination import PageNumberPagination

from ..models import Case
from ..permissions import CaseAccess, CaseDataRole
from ..selectors import visibility

Action = AuditEvent.Action


# --- plumbing ------------------------------------------------------------------------------------


def _audit_read(
    request: Request, action: str, object_type: str, object_id: Any, youth_id: int | None, **detail: Any
) -> None:
    audit_record(
        actor=request.user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        youth_id=youth_id,
        detail=detail,
    )


def _audit_rows(
    request: Request,
    object_type: str,
    rows: Iterable[Any],
    youth_of: Callable[[Any], int | None],
    *,
    empty: AuditEntry | None = None,
) -> None:
    """One audit event per object shown, in one INSERT; an empty page is recorded too."""
    entries = [AuditEntry(Action.LIST, object_type, row.pk, youth_of(row)) for row in rows]
    audit_record_many(
        actor=request.user,
        entries=entries or [empty or AuditEntry(Action.LIST, object_type, "", None, detail={"count": 0})],
    )


class CaseDataApi(generics.GenericAPIView):
    """Base of every case endpoint: case roles only (see CaseDataRole). A refused action is
    recorded in the audit log (as `audit_object_type`) by the shared exception handler."""

    permission_classes = [IsAuthenticatedWithMfa, CaseDataRole]
    pagination_class: type[BasePagination] | None = None
    audit_object_type = ""

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        # Views without one list serializer (actions, details) still answer OPTIONS.
        return self.serializer_class or serializers.Serializer

    def _fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)

    def validated(
        self, serializer_class: type[serializers.Serializer], *, partial: bool = False, **context: Any
    ) -> dict:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context={"request": self.request, **context}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class PaginatedApi(CaseDataApi):
    pagination_class = PageNumberPagination

    def youth_of(self, row: Any) -> int | None:
        return row.youth_id

    def empty_audit_entry(self, object_type: str) -> AuditEntry | None:
        return None

    def list_response(self, queryset: Any, *, object_type: str, context: dict | None = None) -> Response:
        page = self.paginate_queryset(queryset)
        assert page is not None  # a PaginatedApi always has its paginator
        _audit_rows(self.request, object_type, page, self.youth_of, empty=self.empty_audit_entry(object_type))
        data = self.get_serializer_class()(page, many=True, context={"request": self.request, **(context or {})}).data
        return self.get_paginated_response(data)


def _case_for(view: CaseDataApi) -> tuple[Case, CaseAccess]:
    case = visibility.case_get_visible(user=view.request.user, pk=view.kwargs["pk"])
    return case, visibility.case_access(user=view.request.user, case=case)


class CasePartListApi(PaginatedApi):
    """GET (list) / POST (create) of one kind of part of a visible case."""

    part_model: type[Model] = Case

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.case, self.access = _case_for(self)

    def youth_of(self, row: Any) -> int | None:
        return self.case.youth_id

    def empty_audit_entry(self, object_type: str) -> AuditEntry | None:
        # An empty list of a case's parts is still a read of that case.
        return AuditEntry(Action.LIST, object_type, "", self.case.youth_id, detail={"case": self.case.pk, "count": 0})

    def get_queryset(self) -> Any:
        if self._fake():
            return self.part_model._default_manager.none()  # noqa: SLF001 - Django's public API; it is `objects` (no cases model declares another)
        return self.part_queryset()

    def part_queryset(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "access": getattr(self, "access", None)}

    def list_parts(self) -> Response:
        return self.list_response(
            self.get_queryset(), object_type=self.audit_object_type, context={"access": self.access}
        )

    def created(self, obj: Any) -> Response:
        data = self.get_serializer_class()(obj, context={"request": self.request, "access": self.access}).data
        return Response(data, status=status.HTTP_201_CREATED)
