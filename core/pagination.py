"""Pagination for every list: page numbers for short lists, cursors for large tables. A page or
cursor the list did not give out is the caller's mistake: 400 in the one error shape."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from rest_framework import exceptions, pagination
from rest_framework.response import Response

from core.errors import ApplicationError
from core.times import TimeRejected, parse_client_time

#: A page-numbered list counts its rows up to this many; past it `count` is left out (SPEC §6).
COUNT_LIMIT = 1000


class _OpenEndedPage(Page):
    """A page of a list whose length was not counted: whether a next page exists is known from
    one row read past this page."""

    def __init__(self, object_list: Sequence[Any], number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1


class CountLimitedPaginator(Paginator):
    """Django's paginator, but the count stops at COUNT_LIMIT + 1 rows, so a page costs what it
    shows and the rows before it, never what the whole list holds (a supervisor's case list is
    every case of the agency: ~100,000 at state scale). Up to COUNT_LIMIT rows it is Django's
    paginator exactly; past it the count is unknown and the page is read with one row more, to
    know whether there is a next one."""

    count_limit = COUNT_LIMIT

    @cached_property
    def _counted(self) -> int:
        # Unordered: the limit only bounds the count, any COUNT_LIMIT + 1 rows will do.
        head = self.object_list.order_by() if isinstance(self.object_list, QuerySet) else self.object_list
        head = head[: self.count_limit + 1]
        return head.count() if isinstance(head, QuerySet) else len(head)

    @property
    def count_known(self) -> bool:
        return self._counted <= self.count_limit

    @cached_property
    def count(self) -> int:
        # Exact when count_known; past the limit it is the limit + 1, a lower bound (and so is
        # num_pages, which Django derives from it).
        return self._counted

    def validate_number(self, number: Any) -> int:
        if self.count_known:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number: Any) -> Page:
        if self.count_known:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return _OpenEndedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class PageNumberPagination(pagination.PageNumberPagination):
    """Page numbers, with `count` while the list holds at most COUNT_LIMIT rows. A longer list
    (a supervisor's cases or referrals) leaves `count` out, as SPEC §6 allows, and keeps its
    `next` / `previous` links: counting it exactly would cost every request what the whole
    list holds."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CountLimitedPaginator
    template = None  # JSON only: no browsable page controls (they would need the page count)

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

    def get_page_number(self, request, paginator):
        # Past the limit the last page is not known: "last" is then not a page (400, like "x").
        number = request.query_params.get(self.page_query_param) or 1
        if (
            number in self.last_page_strings
            and isinstance(paginator, CountLimitedPaginator)
            and not paginator.count_known
        ):
            raise exceptions.NotFound()
        return super().get_page_number(request, paginator)

    def get_paginated_response(self, data):
        body = {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        assert self.page is not None  # set by paginate_queryset, which always runs first
        paginator = self.page.paginator
        if not isinstance(paginator, CountLimitedPaginator) or paginator.count_known:
            body = {"count": paginator.count, **body}
        return Response(body)

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["required"] = ["next", "previous", "results"]
        described["properties"]["count"]["description"] = (
            f"How many rows the list holds, given while it holds at most {COUNT_LIMIT:,}; left out past that."
        )
        return described


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
