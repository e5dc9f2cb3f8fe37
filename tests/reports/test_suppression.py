"""Small-cell suppression (SPEC §9): no count from 1 to 10 is shown, and no suppressed count can
be worked out from the shown cells and totals. The property test draws random tables and checks
every suppressed cell with its own exact rational elimination (not the module's): the cell is
recoverable exactly when adding its unit vector to the published equations (restricted to the
suppressed cells) does not raise their rank."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    empty_table,
    flatten,
    suppress,
    suppress_scoped,
    suppress_table,
)


def rank(matrix: list[list[Fraction]]) -> int:
    rows = [list(r) for r in matrix]
    rank_, n_cols = 0, len(rows[0]) if rows else 0
    for col in range(n_cols):
        pivot = next((r for r in range(rank_, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[rank_], rows[pivot] = rows[pivot], rows[rank_]
        for r in range(len(rows)):
            if r != rank_ and rows[r][col] != 0:
                factor = rows[r][col] / rows[rank_][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank_], strict=True)]
        rank_ += 1
    return rank_


def determined(cell: int, hidden: list[int], equations: list[dict[int, int]]) -> bool:
    """Whether the published equations pin `cell` down once every shown value is known."""
    matrix = [[Fraction(eq.get(h, 0)) for h in hidden] for eq in equations]
    unit = [Fraction(int(h == cell)) for h in hidden]
    return rank([*matrix, unit]) == rank(matrix)


tables = st.integers(min_value=1, max_value=6).flatmap(
    lambda n_rows: st.integers(min_value=1, max_value=5).flatmap(
        lambda n_cols: st.lists(
            st.lists(st.one_of(st.integers(0, 14), st.integers(0, 400)), min_size=n_cols, max_size=n_cols),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_suppressed_cell_is_recoverable_from_what_is_shown(cells):  # type: ignore[no-untyped-def]
    # given a random table with its row, column and grand totals
    values, equations = flatten(cells)

    # when it is suppressed
    primary, complementary = suppress(values, equations)

    # then every count from 1 to 10 is hidden, and no hidden one is recoverable
    hidden = sorted(primary | complementary)
    assert primary == {i for i, v in enumerate(values) if 1 <= v <= 10}
    assert not primary & complementary
    for cell in hidden:
        assert not determined(cell, hidden, equations), (cells, cell)


@settings(max_examples=100, deadline=None)
@given(tables)
def test_the_published_table_shows_no_count_from_1_to_10(cells):  # type: ignore[no-untyped-def]
    table = suppress_table([f"r{i}" for i in range(len(cells))], [f"c{j}" for j in range(len(cells[0]))], cells)
    shown = [c for row in table["rows"] for c in [*row["cells"], row["total"]]] + [*table["totals"], table["total"]]
    assert not [v for v in shown if isinstance(v, int) and 1 <= v <= 10]
    assert all(v in (PRIMARY, COMPLEMENTARY) for v in shown if isinstance(v, str))


def test_a_lone_small_cell_takes_a_partner_in_its_row_and_column():
    # given: one small cell in a table of large ones
    table = suppress_table(["a", "b"], ["x", "y"], [[5, 40], [30, 50]])

    # then: its row, column and partners are hidden; the grand total can stay
    assert table["rows"][0]["cells"][0] == PRIMARY
    hidden = sum(c in (PRIMARY, COMPLEMENTARY) for row in table["rows"] for c in row["cells"])
    assert hidden == 4  # a 2x2 with published totals needs the whole cycle
    assert table["total"] == 125


def test_the_same_table_is_always_suppressed_the_same_way():
    cells = [[3, 15, 40], [22, 8, 19], [0, 31, 12]]
    assert suppress_table(["a", "b", "c"], ["x", "y", "z"], cells) == suppress_table(
        ["a", "b", "c"], ["x", "y", "z"], cells
    )


def test_zeros_are_shown_and_large_tables_keep_most_counts():
    table = suppress_table(["a", "b", "c"], ["x", "y"], [[0, 40], [25, 50], [33, 61]])
    assert table["rows"][0]["cells"] == [0, 40]
    assert table["total"] == 209


def every_shown(table: dict) -> list:
    return [c for row in table["rows"] for c in [*row["cells"], row["total"]]] + [*table["totals"], table["total"]]


@st.composite
def agency_cubes(draw):  # type: ignore[no-untyped-def]
    """Records counted by agency, by one or two breakdowns and by category: the finest counts
    (agency, row in each breakdown, column). The first breakdown is, half the time, the agency
    itself (CSEC by agency, FRP, missing episodes: each agency's table is its county row)."""
    agencies = [f"A{k}" for k in range(draw(st.integers(1, 4)))]
    n_breakdowns = draw(st.integers(1, 2))
    by_agency = draw(st.booleans())
    row_sets = [[f"r{b}{k}" for k in range(draw(st.integers(1, 3)))] for b in range(n_breakdowns)]
    columns = [f"c{j}" for j in range(draw(st.integers(1, 3)))]
    counts = {}
    for a in agencies:
        for rows in itertools.product(*row_sets):
            key_rows = (a, *rows[1:]) if by_agency else rows
            for c in columns:
                counts[(a, key_rows, c)] = counts.get((a, key_rows, c), 0) + draw(
                    st.one_of(st.integers(0, 14), st.integers(0, 60), st.just(0))
                )
    row_sets = [agencies, *row_sets[1:]] if by_agency else row_sets
    return agencies, row_sets, columns, counts


class Span:
    """The span of the vectors a reader knows, kept in reduced row echelon form (exact)."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[int, Fraction]] = {}

    def reduce(self, vector: dict[int, Fraction]) -> dict[int, Fraction]:
        v = dict(vector)
        for pivot, row in self.rows.items():
            factor = v.get(pivot)
            if factor:
                for k, x in row.items():
                    v[k] = v.get(k, 0) - factor * x
                v = {k: x for k, x in v.items() if x}
        return v

    def add(self, vector: dict[int, Fraction]) -> None:
        v = self.reduce(vector)
        if not v:
            return
        pivot = min(v)
        v = {k: x / v[pivot] for k, x in v.items()}
        for row in self.rows.values():
            factor = row.get(pivot)
            if factor:
                for k, x in v.items():
                    row[k] = row.get(k, 0) - factor * x
                for k in [k for k, x in row.items() if not x]:
                    del row[k]
        self.rows[pivot] = v

    def holds(self, vector: dict[int, Fraction]) -> bool:
        return not self.reduce(vector)


@settings(max_examples=150, deadline=None)
@given(agency_cubes())
def test_the_county_and_every_agency_table_together_recover_no_hidden_count(drawn):  # type: ignore[no-untyped-def]
    # given records by agency, breakdown(s) and category; the attacker is a county-wide reader
    # who fetches the county's tables and every agency's, in every breakdown, of one quarter
    agencies, row_sets, columns, counts = drawn
    breakdowns = [f"by{b}" for b in range(len(row_sets))]

    # when they are suppressed (once, for everybody)
    answer = suppress_scoped(columns, breakdowns, counts)

    # then: each published number is the sum of some finest counts (every agency, row and column
    # the records could fall in, zero or not), and no hidden number is a linear combination of
    # the shown ones (a row a table leaves out is known to be zero, so it counts as shown)
    finest = sorted(
        {*counts, *((a, rows, c) for a in agencies for rows in itertools.product(*row_sets) for c in columns)}
    )
    at = {m: i for i, m in enumerate(finest)}

    def form(scope: str | None, b: int, row: str | None, column: str | None) -> dict[int, Fraction]:
        return {
            at[m]: Fraction(1)
            for m in finest
            if (scope is None or m[0] == scope)
            and (row is None or m[1][b] == row)
            and (column is None or m[2] == column)
        }

    known, hidden = Span(), []
    for scope in [None, *agencies]:
        tables = answer.get(scope) or {name: empty_table(columns) for name in breakdowns}
        for b, name in enumerate(breakdowns):
            table = tables[name]
            numbers = [(form(scope, b, None, None), table["total"])]
            numbers += [(form(scope, b, None, c), v) for c, v in zip(columns, table["totals"], strict=True)]
            listed = set()
            for row in table["rows"]:
                listed.add(row["row"])
                numbers.append((form(scope, b, row["row"], None), row["total"]))
                numbers += [(form(scope, b, row["row"], c), v) for c, v in zip(columns, row["cells"], strict=True)]
            numbers += [(form(scope, b, r, None), 0) for r in row_sets[b] if r not in listed]
            for vector, value in numbers:
                assert not (isinstance(value, int) and 1 <= value <= 10), (drawn, scope, name)
                if isinstance(value, int):
                    assert value == sum(counts.get(finest[i], 0) for i in vector)
                    known.add(vector)
                else:
                    assert value in (PRIMARY, COMPLEMENTARY)
                    hidden.append((scope, name, vector))
    for scope, name, vector in hidden:
        assert not known.holds(vector), (drawn, scope, name, vector)


def test_an_agency_table_is_the_county_row_and_the_subtraction_finds_nothing():
    # given: the county's table is the three agencies' rows; A's `x` is 4
    counts = {}
    for agency, cells in {"A": [4, 40, 30], "B": [25, 22, 18], "C": [15, 12, 33]}.items():
        for column, value in zip("xyz", cells, strict=True):
            counts[(agency, (agency,), column)] = value

    # when
    answer = suppress_scoped("xyz", ["table"], counts)

    # then: every scope shows A's row as the county does, and the county total minus B and C
    # is no number (some of what it needs is hidden)
    county = answer[None]["table"]
    assert answer["A"]["table"]["rows"] == [county["rows"][0]]
    assert county["rows"][0]["cells"][0] == PRIMARY
    others = [answer[a]["table"]["rows"][0]["cells"][0] for a in "BC"]
    assert not (isinstance(county["totals"][0], int) and all(isinstance(v, int) for v in others))
    assert "D" not in answer and empty_table("xyz")["total"] == 0


@settings(max_examples=100, deadline=None)
@given(tables)
def test_a_kept_answer_is_the_one_suppression_computes_for_those_counts_and_ties(cells):  # type: ignore[no-untyped-def]
    # given: a table suppressed once (its answer kept), then asked again
    from reports.suppression import _suppressed

    values, equations = flatten(cells)
    first = suppress(values, equations)

    # when
    again = suppress(list(values), [dict(e) for e in equations])
    loose = suppress(values, equations[:1])  # the same counts, tied less: another question

    # then: the same answer as computing it afresh, and a kept answer cannot be changed by a caller
    assert again == first == tuple(frozenset(part) for part in _suppressed(values, equations))
    assert loose == tuple(frozenset(part) for part in _suppressed(values, equations[:1]))
    assert all(isinstance(part, frozenset) for part in again)
