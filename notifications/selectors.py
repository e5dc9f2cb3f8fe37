"""Reads of deadlines and notifications (SPEC §3). INTERFACE CONTRACT for mdt/: keep the
signature of `open_deadlines_for_cases`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def open_deadlines_for_cases(*, case_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """{case_id: [{"rule": code, "label": text, "due_at": datetime}, …]} for the open deadlines
    of those cases, in one query. Only the rule and due time: safe for the agenda view."""
    return {}
