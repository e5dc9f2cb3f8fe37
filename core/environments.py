"""Which environments relax a guard: an allow-list, so an unknown or misspelt environment is
treated as production (fail closed), never the other way round."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

#: The environments that may make a local key file, load demo data or print demo codes.
NON_PRODUCTION = frozenset({"local", "test", "bench"})


def is_non_production() -> bool:
    return getattr(settings, "HARBOR_ENVIRONMENT", None) in NON_PRODUCTION


def refuse_unless_non_production(command: str) -> None:
    """For commands that must never touch a real database (demo data, demo codes, bench seed)."""
    if not is_non_production():
        raise CommandError(
            f"{command} refuses to run with production settings: it runs only where HARBOR_ENVIRONMENT is "
            f"one of {', '.join(sorted(NON_PRODUCTION))}."
        )
