"""Small-cell suppression (SPEC §9): a count from 1 to 10 is shown as `<11` (primary), and enough
other cells are suppressed (complementary, shown as `*`) that no suppressed count can be worked
out from what is shown.

A table is published with its row totals, column totals and grand total. Those are linear
equations over the cells (each row sums to its total, each column to its total, the totals to
the grand total). A suppressed cell is *recoverable* exactly when its unit vector lies in the
row space of those equations restricted to the suppressed cells (the shown cells are constants).
`suppress` primary-suppresses, then, while some suppressed cell is recoverable, suppresses the
smallest shown non-zero cell that by itself makes it unrecoverable, else the smallest that shares
an equation with it (a zero is always shown: it is not a small count, and hiding it hides
nothing), and checks again with exact rational elimination (`Elimination`, kept up to date as
cells are added). It ends: each step suppresses one more cell, and with every non-zero cell
suppressed none is recoverable (add one to a single record under a cell: every equation still
holds, every zero stays zero, and the cell has changed).

Two reports over overlapping periods of the same table are one way to recover a cell (the
difference of two shown counts). The reports of §9 answer whole calendar quarters only
(reports.periods): two periods are then the same quarter or disjoint, never overlapping, and a
quarter's table is always suppressed the same way (the algorithm is deterministic).

The other way is the agency filter. A county-wide reader (an analyst of a county-wide agency, a
system admin) can fetch the county's table and every agency's table of the same report and
quarter: the county's cells are the sums of the agencies' (county minus the other agencies is
the hidden one), and the breakdowns of one count (CSEC by agency, court, age band, gender
identity) share their column totals within each scope. `suppress_scoped` therefore builds every
table a reader can obtain for one report and quarter (the county's and each agency's, every
breakdown) as one system and suppresses it once: an agency's table is its slice of that one
suppressed system, whoever reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

#: Counts from 1 to this are never shown (SPEC §9).
SMALL = 10
PRIMARY = "<11"
COMPLEMENTARY = "*"

Equation = dict[int, int]  # cell index -> coefficient; the cells sum to zero


def small(value: int) -> bool:
    return 1 <= value <= SMALL


class Elimination:
    """Which suppressed cells the equations determine, kept up to date as cells are suppressed.

    Exact rational elimination over the columns (one per suppressed cell) of the equations: a
    new cell's column is reduced against the independent columns so far; when it reduces to
    zero the combination that did it is a null vector (a change to the suppressed cells that
    every equation allows). A suppressed cell is undetermined exactly when some null vector
    moves it, and the null vectors found form a basis of them all, so the undetermined cells are
    the union of their supports. Suppressing a cell only adds null vectors: that set only grows."""

    def __init__(self, equations: Sequence[Equation]):
        self.columns: dict[int, dict[int, int]] = defaultdict(dict)  # cell -> {equation: coefficient}
        for e, equation in enumerate(equations):
            for cell, coefficient in equation.items():
                if coefficient:
                    self.columns[cell][e] = coefficient
        # The independent columns, reduced: (pivot equation, reduced column, combination of cells).
        self.basis: list[tuple[int, dict[int, Fraction], dict[int, Fraction]]] = []
        self.suppressed: set[int] = set()
        self.free: set[int] = set()
        self._cache: dict[int, tuple[dict[int, Fraction], dict[int, Fraction], int]] = {}

    def _reduce(self, cell: int) -> tuple[dict[int, Fraction], dict[int, Fraction]]:
        """The cell's column reduced against the independent ones, and the combination of cells
        that is that reduced column (kept, and carried on against the columns added since)."""
        cached = self._cache.get(cell)
        if cached is None:
            column = {e: Fraction(c) for e, c in self.columns.get(cell, {}).items()}
            cached = (column, {cell: Fraction(1)}, 0)
        column, combination, done = cached
        for pivot, reduced, combo in self.basis[done:]:  # each later one is zero at the earlier pivots
            factor = column.get(pivot)
            if not factor:
                continue
            factor /= reduced[pivot]
            for e, v in reduced.items():
                nv = column.get(e, 0) - factor * v
                if nv:
                    column[e] = nv
                else:
                    column.pop(e, None)
            for k, v in combo.items():
                nv = combination.get(k, 0) - factor * v
                if nv:
                    combination[k] = nv
                else:
                    combination.pop(k, None)
        self._cache[cell] = (column, combination, len(self.basis))
        return column, combination

    def frees(self, cell: int) -> set[int]:
        """The determined cells that suppressing `cell` too would leave undetermined."""
        column, combination = self._reduce(cell)
        return set() if column else set(combination) & self.determined

    def add(self, cell: int) -> None:
        if cell in self.suppressed:
            return
        self.suppressed.add(cell)
        column, combination = self._reduce(cell)
        del self._cache[cell]
        if column:
            self.basis.append((min(column), column, combination))
        else:
            self.free.update(combination)

    @property
    def determined(self) -> set[int]:
        return self.suppressed - self.free


def recoverable(suppressed: set[int], equations: Sequence[Equation]) -> set[int]:
    """The suppressed cells whose value the equations determine, given every other cell."""
    elimination = Elimination(equations)
    for cell in sorted(suppressed):
        elimination.add(cell)
    return elimination.determined


def suppress(values: Sequence[int], equations: Sequence[Equation]) -> tuple[frozenset[int], frozenset[int]]:
    """(primary, complementary) cell indices for cells `values` tied by `equations`.

    A pure function of the counts and how they are tied, and the one costly step of a report
    (exact elimination, tens of milliseconds for a county-wide system): the answers for the
    last few systems are kept in this process, so a report read again while its records have
    not changed is not suppressed again. The key is counts and cell indices only."""
    return _suppress(tuple(values), tuple(tuple(sorted(equation.items())) for equation in equations))


@lru_cache(maxsize=64)
def _suppress(
    values: tuple[int, ...], equations: tuple[tuple[tuple[int, int], ...], ...]
) -> tuple[frozenset[int], frozenset[int]]:
    primary, complementary = _suppressed(values, [dict(equation) for equation in equations])
    return frozenset(primary), frozenset(complementary)


def _suppressed(values: Sequence[int], equations: Sequence[Equation]) -> tuple[set[int], set[int]]:
    primary = {i for i, v in enumerate(values) if small(v)}
    elimination = Elimination(equations)
    for i in sorted(primary):
        elimination.add(i)
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(values))}
    for equation in equations:
        for i in equation:
            neighbours[i].update(equation)
    suppressed = elimination.suppressed
    while exposed := elimination.determined:
        cell = min(exposed)
        # The smallest shown count that frees the cell by itself; else the smallest next to it (a
        # cycle of hidden cells can take more than one step).
        order = sorted(
            (i for i in range(len(values)) if i not in suppressed and values[i]), key=lambda i: (values[i], i)
        )
        choice = next((i for i in order if cell in elimination.frees(i)), None)
        if choice is None:
            choice = next((i for i in order if i in neighbours[cell]), order[0])
        elimination.add(choice)
    return primary, suppressed - primary


def flatten(cells: Sequence[Sequence[int]], n_cols: int | None = None) -> tuple[list[int], list[Equation]]:
    """Cells, row totals, column totals and grand total as one vector, and the equations."""
    n_rows = len(cells)
    n_cols = (len(cells[0]) if cells else 0) if n_cols is None else n_cols
    values = [v for r in cells for v in r]
    row_total = [n_rows * n_cols + i for i in range(n_rows)]
    col_total = [n_rows * n_cols + n_rows + j for j in range(n_cols)]
    grand = n_rows * n_cols + n_rows + n_cols
    values += [sum(r) for r in cells]
    values += [sum(r[j] for r in cells) for j in range(n_cols)]
    values.append(sum(sum(r) for r in cells))
    equations: list[Equation] = []
    for i in range(n_rows):
        equations.append({**{i * n_cols + j: 1 for j in range(n_cols)}, row_total[i]: -1})
    for j in range(n_cols):
        equations.append({**{i * n_cols + j: 1 for i in range(n_rows)}, col_total[j]: -1})
    equations.append({**{t: 1 for t in row_total}, grand: -1})
    equations.append({**{t: 1 for t in col_total}, grand: -1})
    return values, equations


def shown(value: int, index: int, primary: frozenset[int], complementary: frozenset[int]) -> int | str:
    if index in primary:
        return PRIMARY
    if index in complementary:
        return COMPLEMENTARY
    return value


def suppress_table(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[int]]) -> dict:
    """The table as a report answers it: every cell and total a count or a suppression mark.

    `{"columns": [...], "rows": [{"row": label, "cells": [...], "total": ...}], "totals": [...],
    "total": grand}`."""
    values, equations = flatten(cells, len(columns))
    primary, complementary = suppress(values, equations)
    n_rows, n_cols = len(rows), len(columns)

    def at(i: int) -> int | str:
        return shown(values[i], i, primary, complementary)

    base = n_rows * n_cols
    return {
        "columns": list(columns),
        "rows": [
            {"row": label, "cells": [at(i * n_cols + j) for j in range(n_cols)], "total": at(base + i)}
            for i, label in enumerate(rows)
        ],
        "totals": [at(base + n_rows + j) for j in range(n_cols)],
        "total": at(base + n_rows + n_cols),
    }


# --- the county and its agencies as one system ---------------------------------------------------

Micro = tuple[str, tuple[str, ...], str]
"""One cell of the finest table a report counts: (agency, the row its records fall in for each
breakdown, column). The agency is the one whose filter (`?agency=`) counts those records."""


@dataclass(frozen=True)
class Layout:
    """Where one published table's numbers sit in the system (indices into its values)."""

    rows: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]
    row_totals: tuple[int, ...]
    col_totals: tuple[int, ...]
    grand: int


def scoped_system(
    columns: Sequence[str], n_breakdowns: int, counts: Mapping[Micro, int]
) -> tuple[list[int], list[Equation], dict[str | None, list[Layout]]]:
    """Every table a reader can obtain for one report and quarter: per scope (None, the county,
    then each agency with records) one table per breakdown, with their row, column and grand
    totals; a table lists the rows it has records in (a row left out is known to be zero).

    Each published number is the sum of a set of finest cells. Numbers that are sums of the same
    non-empty set (the county's DCFS row and DCFS's own table; a breakdown's column totals and
    another's) are one value in the system, so they are always shown or hidden together. The
    equations are every linear tie a reader knows: each table's rows and columns sum to its
    totals, a scope's breakdowns share its column totals (one value), and each county cell is
    the sum of the agencies' cells of the same row and column. Zeros are left out of the
    equations: they are always shown (suppress never hides a zero)."""
    col_index = {c: j for j, c in enumerate(columns)}
    micro = sorted((a, rows, col_index[c]) for (a, rows, c), v in counts.items() if v)
    amount = {(a, rows, col_index[c]): v for (a, rows, c), v in counts.items() if v}
    agencies = sorted({m[0] for m in micro})
    values: list[int] = []
    ids: dict[Hashable, int] = {}

    def quantity(members: Sequence[int], where: Hashable) -> int:
        key: Hashable = frozenset(members) if members else ("zero", where)
        found = ids.get(key)
        if found is None:
            found = ids[key] = len(values)
            values.append(sum(amount[micro[m]] for m in members))
        return found

    equations: set[tuple[tuple[int, int], ...]] = set()

    def tie(terms: Sequence[tuple[int, int]]) -> None:
        summed: dict[int, int] = defaultdict(int)
        for i, c in terms:
            summed[i] += c
        clean = tuple(sorted((i, c) for i, c in summed.items() if c and values[i]))
        if clean:
            equations.add(clean)

    layouts: dict[str | None, list[Layout]] = {}
    n_cols = len(columns)
    for scope in [None, *agencies]:
        members = [m for m, key in enumerate(micro) if scope is None or key[0] == scope]
        col_totals = tuple(
            quantity([m for m in members if micro[m][2] == j], (scope, "column", j)) for j in range(n_cols)
        )
        grand = quantity(members, (scope, "grand"))
        tie([*((t, 1) for t in col_totals), (grand, -1)])
        tables = []
        for b in range(n_breakdowns):
            groups: dict[str, list[list[int]]] = defaultdict(lambda: [[] for _ in range(n_cols)])
            for m in members:
                groups[micro[m][1][b]][micro[m][2]].append(m)
            rows = tuple(sorted(groups))
            cells = tuple(tuple(quantity(groups[r][j], (scope, b, r, j)) for j in range(n_cols)) for r in rows)
            row_totals = tuple(quantity([m for g in groups[r] for m in g], (scope, b, r)) for r in rows)
            for i in range(len(rows)):
                tie([*((c, 1) for c in cells[i]), (row_totals[i], -1)])
            for j in range(n_cols):
                tie([*((cells[i][j], 1) for i in range(len(rows))), (col_totals[j], -1)])
            tie([*((t, 1) for t in row_totals), (grand, -1)])
            tables.append(Layout(rows, cells, row_totals, col_totals, grand))
        layouts[scope] = tables
    county = layouts[None]
    for b, table in enumerate(county):
        for i, row in enumerate(table.rows):
            parts = [(layouts[a][b], layouts[a][b].rows.index(row)) for a in agencies if row in layouts[a][b].rows]
            for j in range(n_cols):
                tie([(table.cells[i][j], 1), *((part.cells[k][j], -1) for part, k in parts)])
    return values, [dict(eq) for eq in sorted(equations)], layouts


def empty_table(columns: Sequence[str]) -> dict:
    """The table of a scope with no records: no rows, every total zero."""
    return {"columns": list(columns), "rows": [], "totals": [0] * len(columns), "total": 0}


def suppress_scoped(
    columns: Sequence[str], breakdowns: Sequence[str], counts: Mapping[Micro, int]
) -> dict[str | None, dict[str, dict]]:
    """Every scope's tables (None: the county's; an agency code: that agency's), per breakdown,
    as `suppress_table` answers one, all suppressed as one system: a reader who fetches the
    county's and every agency's tables, in every breakdown, recovers no hidden count. A scope
    with no records is absent (its tables are `empty_table`)."""
    values, equations, layouts = scoped_system(columns, len(breakdowns), counts)
    primary, complementary = suppress(values, equations)

    def at(i: int) -> int | str:
        return shown(values[i], i, primary, complementary)

    def render(layout: Layout) -> dict:
        return {
            "columns": list(columns),
            "rows": [
                {"row": label, "cells": [at(c) for c in cells], "total": at(total)}
                for label, cells, total in zip(layout.rows, layout.cells, layout.row_totals, strict=True)
            ],
            "totals": [at(t) for t in layout.col_totals],
            "total": at(layout.grand),
        }

    return {
        scope: {name: render(layout) for name, layout in zip(breakdowns, tables, strict=True)}
        for scope, tables in layouts.items()
    }
