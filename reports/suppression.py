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
"""

from __future__ import annotations

from collections.abc import Sequence
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


Linked = dict[str, tuple[Sequence[str], Sequence[Sequence[int]]]]


def linked_system(n_rows: int, tables: Linked) -> tuple[list[int], list[Equation], dict[str, tuple[int, int, int]]]:
    """The cells and equations of tables sharing their row totals (indices 0..n_rows-1) and grand
    total (index n_rows); per table, where its cells and column totals start."""
    values: list[int] = []
    equations: list[Equation] = []
    totals = [sum(r) for r in next(iter(tables.values()))[1]] if tables else [0] * n_rows
    row_total = list(range(n_rows))
    values += totals
    grand = len(values)
    values.append(sum(totals))
    equations.append({**{t: 1 for t in row_total}, grand: -1})
    layout: dict[str, tuple[int, int, int]] = {}
    for name, (columns, cells) in tables.items():
        if [sum(r) for r in cells] != totals:
            raise ValueError(f"table {name} does not partition the shared row totals")
        n_cols = len(columns)
        base = len(values)
        values += [v for r in cells for v in r]
        col_base = len(values)
        values += [sum(r[j] for r in cells) for j in range(n_cols)]
        layout[name] = (base, col_base, n_cols)
        for i in range(n_rows):
            equations.append({**{base + i * n_cols + j: 1 for j in range(n_cols)}, row_total[i]: -1})
        for j in range(n_cols):
            equations.append({**{base + i * n_cols + j: 1 for i in range(n_rows)}, col_base + j: -1})
        equations.append({**{col_base + j: 1 for j in range(n_cols)}, grand: -1})
    return values, equations, layout


def suppress_linked(rows: Sequence[str], tables: Linked) -> dict[str, dict]:
    """Several tables over the same rows whose rows have the same totals (one partition of each
    row's count per table: FRP responders and services of the same referrals). The shared row
    totals and grand total tie them, so they are suppressed as one system: a total hidden in one
    is hidden in all, and no combination of the tables recovers a hidden cell."""
    values, equations, layout = linked_system(len(rows), tables)
    grand = len(rows)
    primary, complementary = suppress(values, equations)

    def at(i: int) -> int | str:
        return shown(values[i], i, primary, complementary)

    answer = {}
    for name, (columns, _cells) in tables.items():
        base, col_base, n_cols = layout[name]
        answer[name] = {
            "columns": list(columns),
            "rows": [
                {"row": label, "cells": [at(base + i * n_cols + j) for j in range(n_cols)], "total": at(i)}
                for i, label in enumerate(rows)
            ],
            "totals": [at(col_base + j) for j in range(n_cols)],
            "total": at(grand),
        }
    return answer
