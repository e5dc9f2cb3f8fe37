"""System checks: production refuses to start without usable field-encryption keys."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=False)
def field_keys_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from core.environments import is_non_production

    from .crypto import check_field_keys, reset_key_cache

    if is_non_production() and not settings.HARBOR_FIELD_KEYS:
        return []  # the embedded default makes its own key file on first use
    reset_key_cache()
    return [checks.Error(problem, id="cases.E001") for problem in check_field_keys()]
