"""System checks for the session guarantees of SPEC §1 (run by `manage.py check` and at start)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

MIDDLEWARE_PATH = "accounts.middleware.SessionLimitsMiddleware"


@register()
def session_guarantees(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        errors.append(
            Error(
                "SESSION_ENGINE keeps sessions where they cannot be found by user.",
                hint="Use django.contrib.sessions.backends.db or cached_db: deactivating a user, "
                "resetting their password or MFA must delete every one of their sessions.",
                id="accounts.E001",
            )
        )
    middleware = list(settings.MIDDLEWARE)
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    if MIDDLEWARE_PATH not in middleware or (
        auth in middleware and middleware.index(MIDDLEWARE_PATH) < middleware.index(auth)
    ):
        errors.append(
            Error(
                "The admin session limits are not enforced.",
                hint=f"Add {MIDDLEWARE_PATH} to MIDDLEWARE after AuthenticationMiddleware.",
                id="accounts.E002",
            )
        )
    return errors
