"""Deadlines and notifications — the interface other apps call (SPEC §3).

INTERFACE CONTRACT (cases/ and mdt/ call these inside their own transactions; keep the
signatures). The notifications issue replaces these placeholder bodies with the real thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models


def deadline_open(
    *,
    rule_code: str,
    target: models.Model,
    starts_at: dt.datetime,
    actor: Any = None,
    due_at: dt.datetime | None = None,
) -> Any:
    """Open the deadline `rule_code` for `target` (a Referral, MissingEpisode, Meeting,
    ActionItem or CaseAgency), its clock starting at `starts_at` (due = starts_at + the rule's
    offset, or `due_at` when given, e.g. an action item's own due time). Idempotent: an open
    deadline of the same rule for the same target is returned unchanged."""
    return None


def deadline_meet(*, rule_code: str, target: models.Model, met_at: dt.datetime, actor: Any = None) -> int:
    """Mark the open deadline `rule_code` of `target` met at `met_at`. Returns how many."""
    return 0


def deadline_cancel(*, rule_code: str, target: models.Model, reason: str, actor: Any = None) -> int:
    """Close an open deadline that no longer applies (a meeting cancelled, an item cancelled)."""
    return 0


def meeting_members_notify(*, meeting: Any, event: str, actor: Any) -> int:
    """Tell every member of the meeting's team that its agenda was `published` or `changed`
    (in-app + email, no case details). Returns how many notifications were created."""
    return 0
