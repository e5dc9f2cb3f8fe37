"""Lists Safe Harbor's security controls and whether each is on in the running settings.

`--strict` exits non-zero when any control is off (use it in a production deploy check)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


@dataclass
class Control:
    name: str
    on: bool
    detail: str
    serves: str


def _audit_trigger_installed() -> bool | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'audit_event_append_only' AND NOT tgisinternal")
        return cur.fetchone() is not None


def controls() -> list[Control]:
    knox: dict[str, Any] = settings.REST_KNOX
    configured: list[Any] = settings.AUTH_PASSWORD_VALIDATORS
    validators = {v["NAME"].rsplit(".", 1)[-1]: v.get("OPTIONS", {}) for v in configured}
    trigger = _audit_trigger_installed()
    return [
        Control("debug off", not settings.DEBUG, f"DEBUG={settings.DEBUG}", "OWASP API8 (misconfiguration)"),
        Control(
            "TLS only", bool(getattr(settings, "SECURE_SSL_REDIRECT", False)), "SECURE_SSL_REDIRECT", "HIPAA 164.312(e)"
        ),
        Control(
            "HSTS",
            getattr(settings, "SECURE_HSTS_SECONDS", 0) >= 31536000,
            f"{getattr(settings, 'SECURE_HSTS_SECONDS', 0)} s",
            "HIPAA 164.312(e)",
        ),
        Control(
            "secure cookies",
            bool(getattr(settings, "SESSION_COOKIE_SECURE", False) and getattr(settings, "CSRF_COOKIE_SECURE", False)),
            "SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE",
            "HIPAA 164.312(e)",
        ),
        Control(
            "field encryption keys from environment",
            bool(settings.HARBOR_FIELD_KEYS),
            f"{len(settings.HARBOR_FIELD_KEYS)} key(s)" if settings.HARBOR_FIELD_KEYS else "local key file",
            "HIPAA 164.312(a)(2)(iv)",
        ),
        Control(
            "MFA for admin roles",
            bool(settings.HARBOR_MFA_ENFORCED),
            f"for all: {settings.HARBOR_MFA_REQUIRED_FOR_ALL}",
            "CJIS 5.6.2.2, HIPAA 164.312(d)",
        ),
        Control(
            "lockout after 5 failures for 10 minutes",
            settings.AXES_FAILURE_LIMIT <= 5 and settings.AXES_COOLOFF_TIME.total_seconds() >= 600,
            f"{settings.AXES_FAILURE_LIMIT} failures, {settings.AXES_COOLOFF_TIME}",
            "CJIS 5.5.3",
        ),
        Control(
            "token idle expiry 30 min, absolute 12 h",
            knox["TOKEN_TTL"].total_seconds() <= 1800 and knox["AUTO_REFRESH_MAX_TTL"].total_seconds() <= 43200,
            f"{knox['TOKEN_TTL']} idle, {knox['AUTO_REFRESH_MAX_TTL']} max",
            "CJIS 5.5.5",
        ),
        Control(
            "password length >= 12, common-password check",
            validators.get("MinimumLengthValidator", {}).get("min_length", 8) >= 12
            and "CommonPasswordValidator" in validators,
            ", ".join(sorted(validators)),
            "CJIS 5.6.2.1 (NIST 800-63B)",
        ),
        Control(
            "CORS closed",
            not settings.CORS_ALLOWED_ORIGINS,
            f"{len(settings.CORS_ALLOWED_ORIGINS)} allowed origin(s)",
            "OWASP API8",
        ),
        Control(
            "request body limit",
            settings.HARBOR_MAX_BODY_BYTES <= 10 * 1024 * 1024,
            f"{settings.HARBOR_MAX_BODY_BYTES} bytes",
            "OWASP API4",
        ),
        Control(
            "rate limits on auth endpoints",
            bool(settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get("auth")),
            str(settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES")),
            "OWASP API4",
        ),
        Control(
            "audit log append-only trigger",
            bool(trigger),
            "installed" if trigger else ("not PostgreSQL" if trigger is None else "MISSING"),
            "HIPAA 164.312(b), 164.312(c)(1); CJIS 5.4",
        ),
        Control(
            "email not to the console",
            "console" not in settings.EMAIL_BACKEND and "locmem" not in settings.EMAIL_BACKEND,
            settings.EMAIL_BACKEND.rsplit(".", 2)[-2],
            "reminders reach people",
        ),
    ]


class Command(BaseCommand):
    help = "List the security controls and whether each is on."

    def add_arguments(self, parser):
        parser.add_argument("--strict", action="store_true", help="exit non-zero if any control is off")

    def handle(self, *args, **options):
        rows = controls()
        width = max(len(c.name) for c in rows)
        for c in rows:
            mark = "ON " if c.on else "OFF"
            self.stdout.write(f"[{mark}] {c.name:<{width}}  {c.detail}  ({c.serves})")
        off = [c.name for c in rows if not c.on]
        self.stdout.write(f"{len(rows) - len(off)}/{len(rows)} controls on")
        if options["strict"] and off:
            raise CommandError("controls off: " + ", ".join(off))
