"""Every write about people and access: users, tokens, lockout, bootstrap."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken

from audit.models import AuditEvent
from audit.services import audit_record
from config.api import ApplicationError

from .models import Agency, User
from .permissions import AGENCY_ADMIN_GRANTABLE, MFA_ROLES, Role, is_agency_admin, is_system_admin

PARTNER_AGENCIES = [
    ("DMH", "Department of Mental Health", Agency.Kind.MENTAL_HEALTH),
    ("PROBATION", "Probation Department", Agency.Kind.PROBATION),
    ("DCFS", "Department of Children and Family Services", Agency.Kind.CHILD_WELFARE),
    ("SHERIFF", "Sheriff's Department", Agency.Kind.LAW_ENFORCEMENT),
]

USER_FIELDS = ("username", "email", "first_name", "last_name", "agency", "role", "is_active")


def _audit_user(actor: Any, action: str, user: User, detail: dict[str, Any] | None = None) -> None:
    audit_record(actor=actor, action=action, object_type="user", object_id=user.pk, detail=detail or {})


def _check_grant(*, actor: User, agency: Agency | None, role: str) -> None:
    """An agency admin manages only their own agency and never grants system_admin/auditor."""
    if is_system_admin(actor):
        if agency is None and role != Role.SYSTEM_ADMIN:
            raise ApplicationError("Every user except a system admin belongs to an agency.", fields={"agency": ["Required."]})
        return
    if not is_agency_admin(actor):
        raise ApplicationError("Only admins manage users.", code="forbidden")
    if role not in AGENCY_ADMIN_GRANTABLE:
        raise ApplicationError("An agency admin cannot grant that role.", code="forbidden")
    if agency is None or agency.pk != actor.agency_id:
        raise ApplicationError("An agency admin manages only their own agency.", fields={"agency": ["Must be your own agency."]})


def user_is_manageable_by(*, actor: User, user: User) -> bool:
    """The grant rule as a predicate: may `actor` change `user` at all (admin object permission)?"""
    try:
        _check_grant(actor=actor, agency=user.agency, role=user.role)
    except ApplicationError:
        return False
    return True


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    agency: Agency | None,
    role: str,
    password: str | None = None,
) -> User:
    """Create a user. Without a password an invitation with a one-time set-password link is
    emailed (on commit)."""
    _check_grant(actor=actor, agency=agency, role=role)
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError("That username is taken.", fields={"username": ["Already taken."]})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, agency=agency, role=role)
    if password:
        try:
            validate_password(password, user)
        except Exception as exc:  # django ValidationError: field message, not the password
            raise ApplicationError("Password rejected.", fields={"password": list(getattr(exc, "messages", []))}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    _audit_user(actor, AuditEvent.Action.CREATE, user, {"role": role, "agency": agency.code if agency else None})
    if not password:
        transaction.on_commit(lambda: user_send_invitation(user_id=user.pk))
    return user


def _set_password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.HARBOR_BASE_URL}/accounts/set-password/{uid}/{token}/"


def user_send_invitation(*, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    if not user.email:
        return
    body = render_to_string("accounts/invitation_email.txt", {"link": _set_password_link(user), "username": user.username})
    send_mail("Your Safe Harbor account", body, None, [user.email])


def password_reset_request(*, email: str) -> None:
    """Email a one-time set-password link to the active accounts with this address.

    The caller always gets the same answer, whether or not the address is known, so the
    endpoint cannot be used to find out who has an account."""
    users = list(User.objects.filter(email__iexact=email, is_active=True))
    for user in users:
        body = render_to_string("accounts/password_reset_email.txt", {"link": _set_password_link(user), "username": user.username})
        send_mail("Safe Harbor password reset", body, None, [user.email])
    with transaction.atomic():
        for user in users:
            audit_record(actor=None, action=AuditEvent.Action.UPDATE, object_type="user", object_id=user.pk, detail={"step": "password_reset_requested"})


@transaction.atomic
def user_update(*, actor: User, user: User, data: dict[str, Any]) -> User:
    agency = data.get("agency", user.agency)
    role = data.get("role", user.role)
    _check_grant(actor=actor, agency=agency, role=role)
    if not is_system_admin(actor):
        # An agency admin may not edit a system admin or auditor of their agency either.
        _check_grant(actor=actor, agency=user.agency, role=user.role)
    if user.pk == actor.pk and data.get("is_active") is False:
        # The same rule as user_deactivate: an admin never locks themselves out by mistake.
        raise ApplicationError("You cannot deactivate yourself.", code="conflict")
    changed = []
    for name in USER_FIELDS:
        if name in data and getattr(user, name) != data[name]:
            setattr(user, name, data[name])
            changed.append(name)
    if "password" in data and data["password"]:
        try:
            validate_password(data["password"], user)
        except Exception as exc:
            raise ApplicationError("Password rejected.", fields={"password": list(getattr(exc, "messages", []))}) from exc
        user.set_password(data["password"])
        changed.append("password")
    if changed:
        user.save()
        if "is_active" in changed and not user.is_active:
            _end_sessions(user)
    _audit_user(actor, AuditEvent.Action.UPDATE, user, {"fields": sorted(changed)})
    return user


def _end_sessions(user: User) -> None:
    """Deactivation ends every token at once; Django sessions of an inactive user are refused
    on their next request by the authentication backend."""
    AuthToken.objects.filter(user=user).delete()


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    _check_grant(actor=actor, agency=user.agency, role=user.role)
    if user.pk == actor.pk:
        raise ApplicationError("You cannot deactivate yourself.", code="conflict")
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    _end_sessions(user)
    _audit_user(actor, AuditEvent.Action.ACCESS_CHANGE, user, {"is_active": False})
    return user


# --- authentication -----------------------------------------------------------------------------


def mfa_required_for(user: User) -> bool:
    if not settings.HARBOR_MFA_ENFORCED:
        return False
    return settings.HARBOR_MFA_REQUIRED_FOR_ALL or user.effective_role in MFA_ROLES


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Axes calls this for a locked-out username, on the API and the admin login alike."""
    return JsonResponse(
        {"detail": "Too many failed attempts; try again later.", "code": "too_many"}, status=429
    )


def token_login(*, request: HttpRequest, username: str, password: str, otp: str | None) -> tuple[str, Any]:
    """Check credentials (axes counts failures and locks), MFA, and issue a token.

    Raises ApplicationError: `too_many` when locked out, `invalid`-like 400 for bad credentials
    (one message for unknown user and wrong password)."""
    from .mfa import mfa_verify  # local: the MFA module depends on this one

    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise ApplicationError("Too many failed attempts; try again later.", code="too_many")
    if user is None:
        raise ApplicationError("Unable to log in with those credentials.", code="invalid")
    if not mfa_verify(user=user, otp=otp, required=mfa_required_for(user)):
        with transaction.atomic():
            audit_record(
                actor=None,
                action=AuditEvent.Action.LOGIN_FAILED,
                object_type="user",
                object_id=user.pk,
                outcome=AuditEvent.Outcome.FAILURE,
                detail={"reason": "otp"},
            )
        raise ApplicationError("A valid one-time code is required.", code="invalid", fields={"otp": ["Required or invalid."]})
    with transaction.atomic():
        # Expired tokens are tidied here rather than on every request (see the authentication).
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        instance, token = AuthToken.objects.create(user=user)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        audit_record(actor=user, action=AuditEvent.Action.LOGIN, object_type="user", object_id=user.pk)
        audit_record(
            actor=user, action=AuditEvent.Action.TOKEN_CREATED, object_type="token", object_id=token_fingerprint(instance)
        )
    # A token login sends no `user_logged_in` (that signal is the admin's session login), so tell
    # axes directly: the failure count resets on success (AXES_RESET_ON_SUCCESS), as it does on
    # the admin login.
    AxesProxyHandler.user_logged_in(sender=token_login, request=request, user=user)
    return token, instance.expiry


def tokens_purge_expired(*, now: Any = None) -> int:
    """Delete every expired token (of anyone); returns how many. Expired tokens are refused at
    authentication already: this is housekeeping, run hourly by beat."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted


@transaction.atomic
def token_logout(*, user: User, token: Any) -> None:
    fingerprint = token_fingerprint(token)
    token.delete()
    audit_record(
        actor=user, action=AuditEvent.Action.LOGOUT, object_type="user", object_id=user.pk, detail={"token": fingerprint}
    )


def token_fingerprint(token: AuthToken) -> str:
    """How the audit log names a token: a prefix of its stored SHA-512 digest. The digest's primary
    key is 128 characters (too long for `object_id`), and the token's own `token_key` prefix is
    part of the secret, which has no place in a permanent log."""
    return token.digest[:16]


# --- reference data -------------------------------------------------------------------------------


@transaction.atomic
def agencies_bootstrap() -> int:
    created = 0
    for code, name, kind in PARTNER_AGENCIES:
        _, was_created = Agency.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
        created += int(was_created)
    return created
