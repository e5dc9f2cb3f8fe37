"""Pagination for every list: page numbers for short lists, cursors for large tables. A page or
cursor the list did not give out is the caller's mistake: 400 in the one error shape."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination

from core.errors import ApplicationError
from core.times import TimeRejected, parse_client_time


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        # DRF answers 404 for a page number that is not a page ("0", "x", past the end): that
        # would read as "no such object" on a list whose 404 means "not visible". It is the
        # caller's mistake: 400, saying what to send.
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            raise ApplicationError(
                "Send a page number from 1 to the last page (see `next` and `count`).",
                fields={self.page_query_param: ["Send a whole number from 1 to the last page."]},
            ) from None


class CursorPagination(pagination.CursorPagination):
    """For large tables (audit events, notifications, deadlines): constant cost per page.

    A cursor is the caller's input like any other: one we did not give out (garbled, or
    well-formed with a position that is not a value of the ordering column) answers 400 in the
    one error shape, never DRF's 404 nor a database error on the position."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self._model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        import base64
        import binascii
        from urllib.parse import parse_qs

        encoded = request.query_params.get(self.cursor_query_param)
        if encoded:
            # DRF's decoding skips what is not base64 and reads nothing as "the first page".
            try:
                tokens = parse_qs(base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii"))
            except (binascii.Error, UnicodeError, ValueError):
                raise _bad_cursor() from None
            if not tokens or not set(tokens) <= {"o", "r", "p"}:
                raise _bad_cursor()
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _bad_cursor() from None
        if cursor is not None and cursor.position is not None:
            cursor = cursor._replace(position=self._checked_position(str(cursor.position)))  # type: ignore[arg-type]  # a position is text on the wire; DRF's stub says int
        return cursor

    def _checked_position(self, position: str) -> str:
        """The position is compared with the first ordering column: it must be a value that
        column can hold (a bounded time for a time column, an id for an id). Returned as the
        database should see it (a time in UTC: PostgreSQL refuses offsets beyond ±15:59)."""
        from django.db import models

        if "\x00" in position or len(position) > 100:
            raise _bad_cursor()
        ordering = self.ordering[0] if isinstance(self.ordering, (list, tuple)) else self.ordering
        model = getattr(self, "_model", None)
        try:
            field = model._meta.get_field(ordering.lstrip("-")) if model is not None else None
        except Exception:  # an annotation, not a model field: nothing more to check
            field = None
        if field is None:
            return position
        if isinstance(field, models.DateTimeField):
            try:
                return parse_client_time(position).isoformat()
            except TimeRejected:
                raise _bad_cursor() from None
        try:
            value = field.to_python(position)
        except DjangoValidationError:
            raise _bad_cursor() from None
        if isinstance(field, models.IntegerField) and not 0 <= value < 2**63:
            raise _bad_cursor()
        return position


def _bad_cursor() -> ApplicationError:
    return ApplicationError(
        "That cursor is not one this list gave out.",
        fields={"cursor": ["Send the cursor of a next or previous link of this list, or none for the first page."]},
    )
