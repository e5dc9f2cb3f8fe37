"""Small-cell suppression (SPEC §9): a count from 1 to 10 is shown as `<11` (primary), and enough
other cells are suppressed (complementary, shown as `*`) that no suppressed count can be worked
out from what is shown.

A table is published with its row totals, column totals and grand total. Those are linear
equations over the cells (each row sums to its total, each column to its total, the totals to
the grand total). A suppressed cell is *recoverable* exactly when its unit vector lies in the
row space of those equations restricted to the suppressed cells (the shown cells are constants).
`suppress` primary-suppresses, then, while some suppressed cell is recoverable, suppresses the
smallest shown cell that shares an equation with it (preferring a non-zero one, which hides more),
and checks again with exact rational Gaussian elimination. It ends: each step suppresses one more
cell, and a table with every cell suppressed leaves each one free (every cell lies on a cycle of
the complete grid of cells and totals).

Two reports over overlapping periods of the same table are the other way to recover a cell
(the difference of two shown counts). The reports of §9 answer whole calendar quarters only
(reports.periods): two periods are then the same quarter or disjoint, never overlapping, and a
quarter's table is always suppressed the same way (the algorithm is deterministic).

Breakdowns of the same counts (CSEC by agency, court, age band, gender identity) share their
column totals, so `suppress_breakdowns` suppresses them as one system. Not covered: a reader who
sees both the county's tables and an agency's (county-wide analysts, system admins) could
difference them; that needs the agency × breakdown × category cube suppressed as one system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

#: Counts from 1 to this are never shown (SPEC §9).
SMALL = 10
PRIMARY = "<11"
COMPLEMENTARY = "*"

Equation = dict[int, int]  # cell index -> coefficient; the cells sum to zero


def small(value: int) -> bool:
    return 1 <= value <= SMALL


def recoverable(suppressed: set[int], equations: Sequence[Equation]) -> set[int]:
    """The suppressed cells whose value the equations determine, given every other cell."""
    basis: dict[int, dict[int, Fraction]] = {}  # pivot -> reduced row (pivot coefficient 1)
    for equation in equations:
        row = {i: Fraction(c) for i, c in equation.items() if i in suppressed and c}
        for pivot, prow in basis.items():
            factor = row.get(pivot)
            if factor:
                for k, v in prow.items():
                    nv = row.get(k, 0) - factor * v
                    if nv:
                        row[k] = nv
                    else:
                        row.pop(k, None)
        if not row:
            continue
        pivot = min(row)
        lead = row[pivot]
        row = {k: v / lead for k, v in row.items()}
        for prow in basis.values():
            factor = prow.get(pivot)
            if factor:
                for k, v in row.items():
                    nv = prow.get(k, 0) - factor * v
                    if nv:
                        prow[k] = nv
                    else:
                        prow.pop(k, None)
        basis[pivot] = row
    return {pivot for pivot, row in basis.items() if len(row) == 1}


def suppress(values: Sequence[int], equations: Sequence[Equation]) -> tuple[set[int], set[int]]:
    """(primary, complementary) cell indices for cells `values` tied by `equations`."""
    primary = {i for i, v in enumerate(values) if small(v)}
    suppressed = set(primary)
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(values))}
    for equation in equations:
        for i in equation:
            neighbours[i].update(equation)
    while True:
        exposed = recoverable(suppressed, equations)
        if not exposed:
            break
        cell = min(exposed)
        candidates = [i for i in neighbours[cell] if i not in suppressed] or [
            i for i in range(len(values)) if i not in suppressed
        ]
        suppressed.add(min(candidates, key=lambda i: (values[i] == 0, values[i], i)))
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


def shown(value: int, index: int, primary: set[int], complementary: set[int]) -> int | str:
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


Breakdowns = Mapping[str, tuple[Sequence[str], Sequence[Sequence[int]]]]  # name -> (row labels, cells)


def shared_columns_system(n_cols: int, tables: Breakdowns) -> tuple[list[int], list[Equation], dict[str, int]]:
    """The cells and equations of several breakdowns of the same counts (the same columns, the
    same column totals and grand total: CSEC identifications by agency, by court, by age band,
    by gender identity), each laid out as `flatten` lays out one table, plus the equations that
    say their column totals and grand totals are equal; per table, where it starts."""
    values: list[int] = []
    equations: list[Equation] = []
    starts: dict[str, int] = {}
    first: tuple[int, int] | None = None  # (start, rows) of the first table
    for name, (rows, cells) in tables.items():
        start = len(values)
        own_values, own_equations = flatten(cells, n_cols)
        values += own_values
        equations += [{start + i: c for i, c in eq.items()} for eq in own_equations]
        starts[name] = start
        n_rows = len(rows)
        if first is None:
            first = (start, n_rows)
            continue
        base0, rows0 = first
        totals0 = base0 + rows0 * n_cols + rows0
        totals = start + n_rows * n_cols + n_rows
        for j in range(n_cols + 1):  # the column totals and, last, the grand total
            equations.append({totals0 + j: 1, totals + j: -1})
    return values, equations, starts


def suppress_breakdowns(columns: Sequence[str], tables: Breakdowns) -> dict[str, dict]:
    """Each breakdown as `suppress_table` answers it, suppressed together: a reader who fetches
    every breakdown of the same period and scope still recovers no hidden count."""
    n_cols = len(columns)
    values, equations, starts = shared_columns_system(n_cols, tables)
    primary, complementary = suppress(values, equations)
    answer = {}
    for name, (rows, _cells) in tables.items():
        start, n_rows = starts[name], len(rows)

        def at(i: int, start: int = start) -> int | str:
            return shown(values[start + i], start + i, primary, complementary)

        base = n_rows * n_cols
        answer[name] = {
            "columns": list(columns),
            "rows": [
                {"row": label, "cells": [at(i * n_cols + j) for j in range(n_cols)], "total": at(base + i)}
                for i, label in enumerate(rows)
            ],
            "totals": [at(base + n_rows + j) for j in range(n_cols)],
            "total": at(base + n_rows + n_cols),
        }
    return answer
