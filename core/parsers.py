"""The one JSON parser: bodies over the size limit or nested absurdly deep answer 413; text with
a NUL character (PostgreSQL stores none) answers 400."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, parsers

from core.errors import PayloadTooLarge


def _depth(value: Any, limit: int, depth: int = 0) -> int:
    if depth > limit:
        return depth
    if isinstance(value, dict):
        return max([_depth(v, limit, depth + 1) for v in value.values()] or [depth + 1])
    if isinstance(value, list):
        return max([_depth(v, limit, depth + 1) for v in value] or [depth + 1])
    return depth


def _has_nul(value: Any) -> bool:
    """PostgreSQL stores no NUL character in text or JSON: such input is refused at the door."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class DepthLimitedJSONParser(parsers.JSONParser):
    """JSON parser that refuses bodies over the size limit (413) and absurdly deep nesting (413)."""

    def parse(self, stream, media_type=None, parser_context=None):
        from django.conf import settings

        try:
            data = super().parse(stream, media_type, parser_context)
        except RequestDataTooBig as exc:
            raise PayloadTooLarge() from exc
        except RecursionError as exc:
            raise PayloadTooLarge("JSON nested too deeply.") from exc
        if _depth(data, settings.HARBOR_MAX_JSON_DEPTH) > settings.HARBOR_MAX_JSON_DEPTH:
            raise PayloadTooLarge("JSON nested too deeply.")
        if _has_nul(data):
            raise exceptions.ParseError("Text may not contain NUL characters.")
        return data
