"""Synthetic demo people: one per role per partner agency, all with one printed password."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.permissions import MFA_ROLES, Role

from .models import Agency, User

DEMO_PASSWORD = "harbor-demo-2026!"
DEMO_ROLES = [Role.CASE_WORKER, Role.SUPERVISOR, Role.MDT_MEMBER, Role.AGENCY_ADMIN, Role.AUDITOR]


def demo_username(agency_code: str, role: str) -> str:
    return f"{agency_code.lower()}_{role}"


@transaction.atomic
def seed_demo_users() -> list[tuple[str, str, str]]:
    """Idempotent. Returns (username, agency, role) for the printed table."""
    rows: list[tuple[str, str, str]] = []
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
        username="sysadmin",
        defaults={"role": Role.SYSTEM_ADMIN, "is_superuser": True, "email": "sysadmin@example.invalid"},
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save()
    rows.append(("sysadmin", "-", Role.SYSTEM_ADMIN))
    for user in User.objects.filter(username__in=[r[0] for r in rows]):
        if user.effective_role in MFA_ROLES:
            demo_totp_device(user)
    return rows


def demo_totp_device(user: User) -> TOTPDevice:
    """Admin roles must use MFA even in the demo: each demo admin gets an enrolled authenticator
    whose secret is derived from the user name (synthetic people only), so `manage.py demo_otp
    <username>` can print the current code in place of a phone."""
    key = hashlib.sha256(f"safe-harbor-demo-totp:{user.username}".encode()).hexdigest()[:40]
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="demo authenticator", defaults={"key": key, "confirmed": True}
    )
    return device


def demo_otp_code(user: User) -> str:
    device = demo_totp_device(user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
