"""Synthetic demo people: one per role per partner agency, all with one printed password."""

from __future__ import annotations

from django.db import transaction

from .models import Agency, User
from .permissions import Role

DEMO_PASSWORD = "harbor-demo-2026!"
DEMO_ROLES = [Role.CASE_WORKER, Role.SUPERVISOR, Role.MDT_MEMBER, Role.AGENCY_ADMIN, Role.AUDITOR]


def demo_username(agency_code: str, role: str) -> str:
    return f"{agency_code.lower()}_{role}"


@transaction.atomic
def seed_demo_users() -> list[tuple[str, str, str]]:
    """Idempotent. Returns (username, agency, role) for the printed table."""
    rows = []
    for agency in Agency.objects.filter(code__in=["DMH", "PROBATION", "DCFS", "SHERIFF"]).order_by("code"):
        for role in DEMO_ROLES:
            username = demo_username(agency.code, role)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "agency": agency,
                    "role": role,
                    "first_name": "Demo",
                    "last_name": f"{agency.code.title()} {role.label}",
                    "email": f"{username}@example.invalid",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            rows.append((username, agency.code, role))
    admin, created = User.objects.get_or_create(
        username="sysadmin", defaults={"role": Role.SYSTEM_ADMIN, "is_superuser": True, "email": "sysadmin@example.invalid"}
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
    rows.append(("sysadmin", "-", Role.SYSTEM_ADMIN))
    return rows
