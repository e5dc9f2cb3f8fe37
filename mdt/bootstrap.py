"""Reference data for court MDTs (SPEC §1, §4): the STAR and DREAM teams. Idempotent: running
it again changes nothing (a name or location a system admin edited is left alone)."""

from __future__ import annotations

from django.db import transaction

from cases.models import Case

from .models import MDTTeam

TEAMS = [
    (
        "STAR",
        "STAR Court MDT",
        Case.Court.STAR,
        "Compton Courthouse, 200 W. Compton Blvd., Compton, CA 90220",
    ),
    (
        "DREAM",
        "DREAM Court MDT",
        Case.Court.DREAM,
        "Edmund D. Edelman Children's Court, 201 Centre Plaza Dr., Monterey Park, CA 91754",
    ),
]


@transaction.atomic
def run() -> str:
    created = 0
    for code, name, court, location in TEAMS:
        _, was_created = MDTTeam.objects.get_or_create(
            code=code, defaults={"name": name, "court": court, "court_location": location}
        )
        created += int(was_created)
    return f"{created} MDT team(s) created"
