"""Fixes to measure before they land, written as runtime patches (`bench/run.py --proposals
all|<names>`, or `--ab` to serve the current code and the patched code side by side in one run).
Nothing here is imported by the product.

Each entry of PATCHES names a proposal and lists (module, attribute, replacement): the
replacement has the same signature and must give the same answers as the function it stands in
for; only its speed differs. Every proposal of the first benchmark (visibility as UNIONs of
indexed id sets, the agenda's deadlines by index, the duplicate search's candidate check, the
batched sweep) has landed in the product code, so the table is empty; add the next one here.
"""

from __future__ import annotations

from typing import Any

PATCHES: dict[str, list[tuple[str, str, Any]]] = {}


def apply(names: str) -> list[str]:
    """Patch the named proposals in (every module that imported the original gets the new one)."""
    import importlib
    import sys

    chosen = list(PATCHES) if names.strip() == "all" else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in PATCHES]
    if unknown:
        raise SystemExit(f"unknown proposal(s): {', '.join(unknown)} (known: {', '.join(PATCHES) or 'none'})")
    applied = []
    for name in chosen:
        for module_name, attr, new in PATCHES[name]:
            module = importlib.import_module(module_name)
            old = getattr(module, attr)
            for other in list(sys.modules.values()):
                if other is not None and getattr(other, attr, None) is old:
                    setattr(other, attr, new)
            applied.append(f"{module_name}.{attr}")
    return applied
