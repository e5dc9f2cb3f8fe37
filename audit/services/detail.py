"""What an audit event's detail may carry (SPEC §5): ids and field names, never content values."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

logger = logging.getLogger("audit")

_AGENCY_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TOKEN_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
#: A duplicate search's keyed hash (cases.matching.query_fingerprint): equal searches compare
#: equal, and without the key nothing can be recovered or tried against it.
_QUERY_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
#: Protocol words that are no case content and that an auditor needs (how an access happened).
_VOCABULARY: dict[str, frozenset[str]] = {
    "method": frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}),
    "format": frozenset({"pdf", "html", "json", "csv", "ics"}),
    "via": frozenset(
        {
            "admin",
            "invitation",
            "feed",
            "api",
            "web",
            "matches",
            "youth_create",
            "youth_update",
            "referral_create",
            "referral_detail",
            "referral_accept",
        }
    ),
    "step": frozenset({"begin", "confirm", "reset", "password_reset_requested", "password_link_sent", "resolve"}),
    # Why a session ended (accounts.middleware) or which factor a login failed on (for auditors).
    "reason": frozenset({"idle", "absolute", "unstamped", "otp"}),
}
_warned: set[tuple[str, str]] = set()


def _is_int(value: Any) -> bool:
    return isinstance(value, int)  # bools are ints: flags are allowed


def _agency_key(key: str) -> bool:
    return key in {"agency", "agencies"} or key.endswith(("_agency", "_agencies"))


def _iso_time(value: str) -> bool:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _allowed(key: str, value: Any) -> bool:
    if value is None or _is_int(value):
        return True
    if isinstance(value, list):
        if all(_is_int(v) for v in value):
            return True
        if key == "fields":
            return all(isinstance(v, str) and _FIELD_NAME.match(v) for v in value)
        if _agency_key(key):
            return all(isinstance(v, str) and _AGENCY_CODE.match(v) for v in value)
        return False
    if isinstance(value, str):
        if _agency_key(key):
            return bool(_AGENCY_CODE.match(value))
        if key == "expires_at" or key.endswith("_expires_at"):
            return _iso_time(value)
        if key == "token":
            return bool(_TOKEN_FINGERPRINT.match(value))
        if key == "query":
            return bool(_QUERY_FINGERPRINT.match(value))
        return value in _VOCABULARY.get(key, ())
    return False


def clean_detail(detail: dict[str, Any] | None, *, object_type: str = "") -> dict[str, Any]:
    """The detail an event may keep: ints, bools, None, lists of ints, field names under
    `fields`, agency codes under keys naming an agency, ISO times under `expires_at`, and a few
    protocol words (method, format, via, step). Any other value — a status, a level, a court,
    free text — is dropped and its key listed under `fields` instead: the log says *what*
    was involved, never *what it said*. Nested objects are cleaned the same way."""
    if not detail:
        return {}
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY.match(key):
            continue  # a key that could itself be content is not kept, not even as a name
        if isinstance(value, dict):
            kept[key] = clean_detail(value, object_type=object_type)
        elif _allowed(key, value):
            kept[key] = value
        else:
            dropped.append(key)
            if (object_type, key) not in _warned:
                _warned.add((object_type, key))
                # The key and the object type only: the value is what must not be logged. Debug,
                # not warning: dropping a value is the rule working (statuses, levels, courts are
                # named under `fields`), and tests/audit/test_audit_vocabulary.py pins the words kept.
                logger.debug("audit detail value dropped: object_type=%s key=%s", object_type, key)
    if dropped:
        fields = kept.get("fields")
        names = fields if isinstance(fields, list) else []
        kept["fields"] = sorted({*names, *(k for k in dropped if _FIELD_NAME.match(k))})
    return kept
