"""Reference data: the default deadline rules of SPEC §3 (idempotent).

Only missing rules are created: a rule a system admin has edited keeps the edit on re-run."""

from __future__ import annotations

from django.db import transaction

from .models import DeadlineRule
from .rules import DEFAULT_RULES


@transaction.atomic
def run() -> str:
    existing = set(DeadlineRule.objects.values_list("code", flat=True))
    missing = [spec for spec in DEFAULT_RULES if spec["code"] not in existing]
    DeadlineRule.objects.bulk_create(DeadlineRule(**spec) for spec in missing)
    return f"deadline rules: {len(missing)} created, {len(DEFAULT_RULES) - len(missing)} kept"
