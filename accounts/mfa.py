"""TOTP multi-factor authentication (django-otp) with one-time recovery codes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError

from .models import User

RECOVERY_CODE_COUNT = 10


def mfa_confirmed_devices(user: User) -> list[Any]:
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]


def mfa_is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_verify(*, user: User, otp: str | None, required: bool) -> bool:
    """True when the login may proceed: an enrolled user must give a valid TOTP or recovery
    code; a user who must use MFA but has not enrolled yet gets a token that can only enrol
    (accounts.authentication), and enrolling ends it (mfa_totp_confirm)."""
    if not mfa_is_enrolled(user):
        return True
    if not otp:
        return False
    token = str(otp).strip().replace(" ", "")
    return any(device.verify_token(token) for device in mfa_confirmed_devices(user))


@transaction.atomic
def mfa_totp_begin(*, actor: User) -> TOTPDevice:
    """Start enrolment: a fresh unconfirmed TOTP device whose secret the client shows as a QR."""
    if mfa_is_enrolled(actor):
        raise ApplicationError("MFA is already set up; ask your agency admin to reset it.", code="conflict")
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=actor, name="authenticator", confirmed=False)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MFA_CHANGE,
        object_type="user",
        object_id=actor.pk,
        detail={"step": "begin"},
    )
    return device


@transaction.atomic
def mfa_totp_confirm(*, actor: User, otp: str) -> list[str]:
    """Confirm enrolment with a first code; returns the recovery codes (shown once).

    Every token and session of the user ends here, the one that enrolled included: it was issued
    without a code, and a token never gains more than it was issued with (SPEC §6). The user
    signs in again with a code."""
    from .services import user_sessions_end

    device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("-id").first()
    if device is None:
        raise ApplicationError("Start enrolment first.", code="conflict")
    if not device.verify_token(str(otp).strip()):
        raise ApplicationError("That code is not valid.", fields={"otp": ["Invalid code."]})
    device.confirmed = True
    device.save()
    StaticDevice.objects.filter(user=actor).delete()
    static = StaticDevice.objects.create(user=actor, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    user_sessions_end(user=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MFA_CHANGE,
        object_type="user",
        object_id=actor.pk,
        detail={"step": "confirm"},
    )
    return codes


@transaction.atomic
def mfa_reset(*, actor: User, user: User) -> None:
    """An admin removes a user's devices (lost phone); the user enrols again at next login. Every
    token and session of the user ends (SPEC §1): whoever holds the lost phone holds nothing."""
    from .services import _check_grant, user_sessions_end

    _check_grant(actor=actor, agency=user.agency, role=user.role)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user_sessions_end(user=user)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.MFA_CHANGE,
        object_type="user",
        object_id=user.pk,
        detail={"step": "reset"},
    )
