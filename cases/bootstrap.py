"""Reference data of the cases app: the CSEC indicator codes of the county fact sheet."""

from __future__ import annotations

from django.db import transaction

from .models import IndicatorCode

INDICATORS = [
    ("runaway_or_homeless", "Runaway or homeless", "Has run away, is homeless or moves between places to stay."),
    ("prior_sexual_abuse", "Prior sexual abuse", "A history of sexual abuse."),
    (
        "justice_or_truancy_history",
        "Truancy, curfew or juvenile justice involvement",
        "Truancy, curfew violations or juvenile justice involvement.",
    ),
    (
        "controlling_older_partner",
        "Controlling older partner",
        "A much older boyfriend, girlfriend or 'friend' who controls.",
    ),
    ("tattoos_or_branding", "Tattoos or branding", "Tattoos or marks that may show ownership (names, symbols)."),
    ("signs_of_violence", "Signs of violence", "Injuries or signs of physical violence."),
    (
        "unexplained_money_or_gifts",
        "Unexplained money or gifts",
        "Money, phones, clothes or gifts with no explanation.",
    ),
    ("online_solicitation", "Online solicitation", "Solicited or advertised online or through social media."),
]


@transaction.atomic
def run() -> str:
    """Idempotent: creates missing codes, never changes a label, description or status an admin
    edited."""
    created = 0
    for code, label, description in INDICATORS:
        _, was_created = IndicatorCode.objects.get_or_create(
            code=code, defaults={"label": label, "description": description}
        )
        created += int(was_created)
    return f"indicator codes: {created} created"
