"""Secrets out of log lines (SPEC §4, §7: no secret or identifying detail in a log line).

Some URLs carry a credential in their path: the personal calendar feed
(`/api/v1/mdt/feeds/<token>.ics`, the token is the only thing guarding it) and the set-password
link (`/accounts/set-password/<uid>/<token>/`). And some query strings carry what a person typed
(the duplicate search sends names and a date of birth). Every logger that writes request
lines or paths — Django's `django.request` and `django.server` (runserver's access log),
gunicorn's access and error logs (config/gunicorn.py) — passes its records through
`SecretPathFilter`, which rewrites the token part of any path to `***` and a query string to
`?***` before any handler formats the record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

#: Characters that end a path segment in a log line (a request line is quoted, a path may be
#: followed by a space, a quote, a query or a fragment).
_SEGMENT = r"[^/\s?#\"'<>]+"

_FEED = re.compile(rf"(/mdt/feeds/){_SEGMENT}")
# Django's PasswordResetConfirmView swaps the token for the literal "set-password" after the
# first visit: that one is not a secret and stays readable.
_SET_PASSWORD = re.compile(rf"(/set-password/{_SEGMENT}/)(?!set-password(?:/|\b)){_SEGMENT}")
#: A query string attached to a path (`/x/y/?a=b`): what follows `?` up to the end of the URL.
_QUERY = re.compile(r"(/[^\s\"'<>?#]*)\?[^\s\"'<>#]*")


def _feed(match: re.Match[str]) -> str:
    return match.group(1) + MASK + (".ics" if match.group(0).endswith(".ics") else "")


def mask_secrets(text: str) -> str:
    """`text` with the feed and set-password tokens of every path in it, and every query
    string, replaced by `***`."""
    if "/" not in text:
        return text
    text = _QUERY.sub(lambda m: m.group(1) + "?" + MASK, text)
    text = _FEED.sub(_feed, text)
    return _SET_PASSWORD.sub(lambda m: m.group(1) + MASK, text)


def mask_value(value: Any) -> Any:
    return mask_secrets(value) if isinstance(value, str) else value


class SecretPathFilter(logging.Filter):
    """Rewrites a record in place, so every handler after it (and every logger it propagates
    to) sees the masked text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: mask the parts as they are
            record.msg = mask_value(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(mask_value(arg) for arg in record.args)
            elif isinstance(record.args, Mapping):
                record.args = {key: mask_value(arg) for key, arg in record.args.items()}
            return True
        masked = mask_secrets(message)
        if masked != message:
            # The arguments are already in the message: keep them out of formatters that
            # would read them again (a JSON formatter listing args, for instance).
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # A traceback can quote the path (a resolver error, an exception message).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True
