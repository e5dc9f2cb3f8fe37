"""The log scrub (SPEC §7, issue 18): across the whole suite, no log record carries a seeded
identifying value — a name, a date of birth, a narrative or note text, an address, a token or a
calendar-feed secret.

A pytest plugin. Register it for the whole suite with one line in tests/conftest.py:

    pytest_plugins = ["tests.ops.log_scrub"]

(or `-p tests.ops.log_scrub` on the command line). What it does, per test:

- it learns the identifying values the test seeds: every value saved to an encrypted field (the
  fields that hold a youth's names, aliases and date of birth, external ids, narratives, notes,
  addresses, protected details, minutes, review text — cases/crypto.py's fields are exactly
  what the service treats as identifying), every API token knox makes, every secret
  `secrets.token_urlsafe` hands out (calendar feeds) and every set-password link token;
- it captures every log record any logger passes to its handlers (whatever the level
  configured, the propagate flag or the handlers), masked by core's SecretPathFilter as every
  real handler masks it, rendered as production writes it (the JSON line) and also as its raw
  message, arguments, extra fields and traceback (Django's `request` extra aside: no
  formatter writes it, ops/logconfig.py drops it);
- at the end of the test it fails the test (an error in teardown) if any of those values
  appears in any of those records, naming the logger and the value's kind. The session's
  summary lists every finding again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

#: Shorter values (a three-letter name, a two-digit number) would match ordinary text.
MIN_LENGTH = 4
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


@dataclass
class Scrubber:
    values: dict[str, str] = field(default_factory=dict)  # value -> kind
    records: list[tuple[str, str]] = field(default_factory=list)  # (logger, rendered text)
    findings: list[str] = field(default_factory=list)

    def seed(self, value: Any, kind: str) -> None:
        if isinstance(value, (list, tuple, set)):
            for item in value:
                self.seed(item, kind)
            return
        if isinstance(value, dict):
            for item in value.values():
                self.seed(item, kind)
            return
        if value is None or isinstance(value, bool):
            return
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        text = text.strip()
        if len(text) < MIN_LENGTH or (text.isdigit() and len(text) < 8):
            return
        self.values.setdefault(text, kind)

    def capture(self, record: logging.LogRecord) -> None:
        from core.logging_filters import SecretPathFilter

        SecretPathFilter().filter(record)
        # The line exactly as production writes it (ops/logconfig.py's JSON formatter)...
        parts = [_safe(lambda: _production_formatter().format(record))]
        # ...and the raw parts any other formatter could use.
        parts += [_safe(record.getMessage), repr(record.args)]
        if record.exc_info and not record.exc_text:
            parts.append(logging.Formatter().formatException(record.exc_info))
        parts += [record.exc_text or "", record.stack_info or ""]
        parts += [repr(v) for k, v in record.__dict__.items() if k not in _STANDARD and k != "request"]
        self.records.append((record.name, "\n".join(parts)))

    def check(self, where: str) -> list[str]:
        found = []
        if self.values and self.records:
            pattern = re.compile("|".join(re.escape(v) for v in sorted(self.values, key=len, reverse=True)))
            for name, text in self.records:
                for match in set(pattern.findall(text)):
                    found.append(f"{where}: logger {name!r} wrote a {self.values[match]} ({match!r})")
        self.findings += found
        return found

    def reset(self) -> None:
        self.values.clear()
        self.records.clear()


_formatter: logging.Formatter | None = None


def _production_formatter() -> logging.Formatter:
    global _formatter
    if _formatter is None:
        from ops.logconfig import formatter

        entry = formatter("json")
        _formatter = entry.pop("()")(**entry)
    return _formatter


def _safe(get: Any) -> str:
    try:
        return str(get())
    except Exception:
        return ""


SCRUBBER = Scrubber()
_installed = False


def _install() -> None:
    """Hooks in once Django is set up: log capture, and the sources of identifying values."""
    global _installed
    if _installed:
        return
    _installed = True
    import secrets

    from django.contrib.auth.tokens import PasswordResetTokenGenerator
    from django.db.models.signals import post_save
    from knox import crypto

    from cases.crypto import EncryptedDateField, EncryptedJSONField, EncryptedTextField

    original_call_handlers = logging.Logger.callHandlers

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        try:
            SCRUBBER.capture(record)
        except Exception:  # the scrub must never break logging
            pass
        original_call_handlers(self, record)

    logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]

    encrypted = (EncryptedTextField, EncryptedDateField, EncryptedJSONField)

    def on_save(sender: Any, instance: Any, **kwargs: Any) -> None:
        for f in sender._meta.concrete_fields:
            if isinstance(f, encrypted):
                SCRUBBER.seed(getattr(instance, f.attname, None), f"{sender.__name__}.{f.name}")

    post_save.connect(on_save, weak=False, dispatch_uid="tests.ops.log_scrub")

    original_token = crypto.create_token_string

    def create_token_string() -> str:
        token = original_token()
        SCRUBBER.seed(token, "API token")
        return token

    crypto.create_token_string = create_token_string

    original_urlsafe = secrets.token_urlsafe

    def token_urlsafe(nbytes: int | None = None) -> str:
        token = original_urlsafe(nbytes)
        SCRUBBER.seed(token, "secret token")
        return token

    secrets.token_urlsafe = token_urlsafe

    original_make_token = PasswordResetTokenGenerator.make_token

    def make_token(self: Any, user: Any) -> str:
        token = original_make_token(self, user)
        SCRUBBER.seed(token, "set-password token")
        return token

    PasswordResetTokenGenerator.make_token = make_token  # type: ignore[method-assign]


def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        import django

        django.setup()
    except Exception:
        return
    _install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    SCRUBBER.reset()
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Any) -> Any:
    result = yield
    found = SCRUBBER.check(item.nodeid)
    SCRUBBER.reset()
    if found:
        pytest.fail("identifying value in a log record:\n" + "\n".join(found), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCRUBBER.findings:
        terminalreporter.section("log scrub: identifying values in log records")
        for line in SCRUBBER.findings:
            terminalreporter.line(line)
    elif _installed:
        terminalreporter.line("log scrub: no identifying value in any log record")
