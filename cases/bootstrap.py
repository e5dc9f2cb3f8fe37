"""Reference data of the cases app: the CSEC indicator codes of the county fact sheet."""

from __future__ import annotations

from django.db import transaction

from .models import IndicatorCode

INDICATORS = [
    ("runaway_or_homeless", "Runaway or homeless"),
    ("prior_sexual_abuse", "Prior sexual abuse"),
    ("justice_or_truancy_history", "Truancy, curfew or juvenile justice involvement"),
    ("controlling_older_partner", "Controlling older partner"),
    ("tattoos_or_branding", "Tattoos or branding"),
    ("signs_of_violence", "Signs of violence"),
    ("unexplained_money_or_gifts", "Unexplained money or gifts"),
    ("online_solicitation", "Online solicitation"),
]


@transaction.atomic
def run() -> str:
    """Idempotent: creates missing codes, never changes a label or status an admin edited."""
    created = 0
    for code, label in INDICATORS:
        _, was_created = IndicatorCode.objects.get_or_create(code=code, defaults={"label": label})
        created += int(was_created)
    return f"indicator codes: {created} created"
