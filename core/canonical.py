"""Canonical JSON: one byte string per value (sorted keys, no spaces), for hashes and seals."""

from __future__ import annotations

import json
from typing import Any


def json_dumps_canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
