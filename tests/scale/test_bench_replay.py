"""The benchmark's raw-SQL baseline replays what a page ran. A `.iterator()` read is a server-side
cursor, which Django logs as its DECLARE while the FETCHes that run the query go unlogged:
replaying the DECLARE alone timed nothing, and made the reports' database share look like 1 ms.
The replay runs the cursor's query and fetches it whole, as the request did."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Agency

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import inproc  # noqa: E402  (the bench's module, run from bench/)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_a_cursor_is_replayed_as_its_query_with_every_row(agencies):
    # given: a server-side cursor read, as a report runs it
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        codes = [code for (code,) in Agency.objects.order_by("code").values_list("code").iterator(chunk_size=2)]
    declare = next(q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("DECLARE"))

    # when
    query = inproc.runnable(declare)
    with connection.cursor() as cursor:
        cursor.execute(query)
        rows = [code for (code,) in cursor.fetchall()]

    # then: the same rows the iterator gave; a plain statement is left as it is
    assert query.lstrip().upper().startswith("SELECT")
    assert rows == codes and len(codes) == len(agencies)
    assert inproc.runnable("SELECT 1") == "SELECT 1"
    assert inproc.replay([declare], repeats=1)["errors"] == 0
