"""Page-numbered lists count their rows only up to a limit (SPEC §6, issue 19): a supervisor's
case or referral list is every case of the agency, and an exact count cost every request what the
whole list holds. Past the limit `count` is left out; the pages, their links and what they show
stay the same. The limit is lowered here so a handful of cases cross it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from core.pagination import COUNT_LIMIT, CountLimitedPaginator
from tests.cases.factories import create_referral, open_case

pytestmark = pytest.mark.django_db


def _page_of(link: str | None) -> str | None:
    return parse_qs(urlsplit(link).query).get("page", ["1"])[0] if link else None


def _walk(client, path: str) -> tuple[list[dict], list[int]]:  # type: ignore[no-untyped-def]
    """Every page of the list by its `next` links: the pages' bodies and the ids shown."""
    bodies, ids, url = [], [], path
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return bodies, ids


@pytest.fixture
def five_cases(people):  # type: ignore[no-untyped-def]
    return [open_case(people.dcfs_case_worker, people.dcfs_supervisor) for _ in range(5)]


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/referrals/"])
def test_past_the_limit_count_is_left_out_and_the_pages_are_the_same(path, five_cases, people, as_user, monkeypatch):
    # given: the same list read exactly (under the limit) and past it (limit 3)
    client = as_user(people.dcfs_supervisor)
    exact_bodies, exact_ids = _walk(client, f"{path}?page_size=2")
    monkeypatch.setattr(CountLimitedPaginator, "count_limit", 3)

    # when
    bodies, ids = _walk(client, f"{path}?page_size=2")

    # then: the same rows in the same order on the same pages, without a count
    assert exact_bodies[0]["count"] == len(exact_ids) == 5
    assert ids == exact_ids and len(set(ids)) == 5
    assert [len(b["results"]) for b in bodies] == [2, 2, 1]
    assert all("count" not in b for b in bodies)
    assert [(_page_of(b["previous"]), _page_of(b["next"])) for b in bodies] == [(None, "2"), ("1", "3"), ("2", None)]


def test_a_page_past_the_end_of_an_uncounted_list_is_400(five_cases, people, as_user, monkeypatch):
    # given
    monkeypatch.setattr(CountLimitedPaginator, "count_limit", 3)
    client = as_user(people.dcfs_supervisor)

    # when
    past, last, garbled = (client.get(f"/api/v1/cases/?page_size=2&page={p}") for p in ("4", "last", "x"))

    # then: the caller's mistake, in the one error shape (never a 404, which means "not visible")
    assert [r.status_code for r in (past, last, garbled)] == [400, 400, 400]
    assert all("page" in r.json()["errors"] for r in (past, last, garbled))


def test_exactly_at_the_limit_the_count_is_given(five_cases, people, as_user, monkeypatch):
    # given: five cases, limit five
    monkeypatch.setattr(CountLimitedPaginator, "count_limit", 5)

    # when
    body = as_user(people.dcfs_supervisor).get("/api/v1/cases/?page_size=2&page=3").json()

    # then
    assert body["count"] == 5 and len(body["results"]) == 1 and body["next"] is None


def test_the_uncounted_list_shows_only_what_the_reader_may_see(five_cases, people, as_user, monkeypatch):
    # given: a Sheriff referral of their own beside DCFS's cases, the limit below both lists
    create_referral(people.sheriff_case_worker, receiving_agency=people.sheriff_supervisor.agency)
    monkeypatch.setattr(CountLimitedPaginator, "count_limit", 0)

    # when
    _, sheriff_ids = _walk(as_user(people.sheriff_case_worker), "/api/v1/referrals/?page_size=1")
    _, dcfs_case_ids = _walk(as_user(people.sheriff_case_worker), "/api/v1/cases/?page_size=1")

    # then
    assert len(sheriff_ids) == 1
    assert dcfs_case_ids == []


def test_the_schema_tells_clients_count_may_be_left_out():
    # given
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    # when
    page = schema["components"]["schemas"]["PaginatedCaseListOutputList"]

    # then: a generated client must not require it, and is told when it is there
    assert "count" not in page["required"] and {"next", "previous", "results"} <= set(page["required"])
    assert f"{COUNT_LIMIT:,}" in page["properties"]["count"]["description"]
