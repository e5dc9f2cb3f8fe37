"""Optimistic concurrency (SPEC §6): every object a client may PATCH carries an ETag; a PATCH
with a stale If-Match answers 412 and changes nothing. The check runs in the service, on the
row it has locked (select_for_update), never in the view before the lock."""

from __future__ import annotations

import hashlib
from typing import Any

from core.errors import PreconditionFailed


def etag_for(obj: Any) -> str:
    """A weak validator from the object's id and its last-change marker."""
    marker = getattr(obj, "updated_at", None) or getattr(obj, "version", None)
    raw = f"{obj.__class__.__name__}:{obj.pk}:{marker}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def check_if_match(obj: Any, if_match: str | None) -> None:
    """A stale If-Match answers 412 and changes nothing. Call it on the locked row. No header,
    or `*`, is no precondition; strong and weak (`W/"…"`) tags are both accepted (RFC 9110
    §13.1.1 compares them weakly for PATCH here: the tag is a version marker)."""
    if not if_match or if_match.strip() == "*":
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if etag_for(obj) not in tags:
        raise PreconditionFailed()
