"""Small-cell suppression (SPEC §9): no count from 1 to 10 is shown, and no suppressed count can
be worked out from the shown cells and totals. The property test draws random tables and checks
every suppressed cell with its own exact rational elimination (not the module's): the cell is
recoverable exactly when adding its unit vector to the published equations (restricted to the
suppressed cells) does not raise their rank."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    flatten,
    shared_columns_system,
    suppress,
    suppress_breakdowns,
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


@st.composite
def breakdowns(draw):  # type: ignore[no-untyped-def]
    """Two breakdowns of the same counts: a random table, and the same column totals cut into
    a random number of other rows."""
    n_cols = draw(st.integers(1, 3))
    first = draw(
        st.lists(
            st.lists(st.one_of(st.integers(0, 14), st.integers(0, 60)), min_size=n_cols, max_size=n_cols),
            min_size=1,
            max_size=4,
        )
    )
    n_rows = draw(st.integers(1, 4))
    second = [[0] * n_cols for _ in range(n_rows)]
    for j in range(n_cols):
        total = sum(r[j] for r in first)
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n_rows - 1, max_size=n_rows - 1)))
        for i, (lo, hi) in enumerate(zip([0, *cuts], [*cuts, total], strict=True)):
            second[i][j] = hi - lo
    return n_cols, {
        "by_a": ([f"a{i}" for i in range(len(first))], first),
        "by_b": ([f"b{i}" for i in range(n_rows)], second),
    }


@settings(max_examples=150, deadline=None)
@given(breakdowns())
def test_breakdowns_of_the_same_counts_recover_nothing_together(drawn):  # type: ignore[no-untyped-def]
    # given two breakdowns sharing their column totals (CSEC by agency and by court)
    n_cols, tables = drawn
    values, equations, _ = shared_columns_system(n_cols, tables)

    # when they are suppressed together
    primary, complementary = suppress(values, equations)
    answer = suppress_breakdowns([f"c{j}" for j in range(n_cols)], tables)

    # then: no hidden cell is recoverable from both tables' equations, and none from 1 to 10 shows
    hidden = sorted(primary | complementary)
    assert primary == {i for i, v in enumerate(values) if 1 <= v <= 10}
    for cell in hidden:
        assert not determined(cell, hidden, equations), (drawn, cell)
    for table in answer.values():
        assert not [v for v in every_shown(table) if isinstance(v, int) and 1 <= v <= 10]
    assert answer["by_a"]["totals"] == answer["by_b"]["totals"] and answer["by_a"]["total"] == answer["by_b"]["total"]


def every_shown(table: dict) -> list:
    return [c for row in table["rows"] for c in [*row["cells"], row["total"]]] + [*table["totals"], table["total"]]
