"""Every write about people and access: users, tokens, lockout, bootstrap."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import SESSION_KEY, authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.etags import check_if_match
from core.permissions import (
    AGENCY_ADMIN_GRANTABLE,
    MFA_ROLES,
    Role,
    is_agency_admin,
    is_case_side_role,
    is_system_admin,
)

from .models import Agency, User

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
    """An agency admin manages only their own agency and never grants system_admin, auditor or
    analyst (non-case roles a system admin hands out, SPEC §1)."""
    if is_system_admin(actor):
        if agency is None and role != Role.SYSTEM_ADMIN:
            raise ApplicationError(
                "Every user except a system admin belongs to an agency.", fields={"agency": ["Required."]}
            )
        return
    if not is_agency_admin(actor):
        raise ApplicationError("Only admins manage users.", code="forbidden")
    if role not in AGENCY_ADMIN_GRANTABLE:
        raise ApplicationError("An agency admin cannot grant that role.", code="forbidden")
    if agency is None or agency.pk != actor.agency_id:
        raise ApplicationError(
            "An agency admin manages only their own agency.", fields={"agency": ["Must be your own agency."]}
        )


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
    """Create a user and email them an invitation with a one-time set-password link (on commit).

    `password` exists only to be refused: admins never choose another person's password
    (SPEC §1), the person chooses it from the link."""
    if password:
        _refuse_admin_password()
    _check_grant(actor=actor, agency=agency, role=role)
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError("That username is taken.", fields={"username": ["Already taken."]})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, agency=agency, role=role)
    user.set_unusable_password()
    user.save()
    _audit_user(actor, AuditEvent.Action.CREATE, user, {"role": role, "agency": agency.code if agency else None})
    transaction.on_commit(lambda: user_send_invitation(user_id=user.pk))
    return user


ADMIN_PASSWORD_REFUSED = (
    "Admins do not set passwords: the person is emailed an invitation or set-password link "
    "(POST /api/v1/users/{id}/send-password-link/) and chooses their own."
)


def _refuse_admin_password() -> None:
    raise ApplicationError(
        ADMIN_PASSWORD_REFUSED, fields={"password": ["Do not send a password; a link is emailed instead."]}
    )


def _set_password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.HARBOR_BASE_URL}/accounts/set-password/{uid}/{token}/"


@transaction.atomic
def user_send_password_link(*, actor: User, user: User) -> None:
    """An admin sends an existing user a one-time set-password link (forgotten password, expired
    invitation). The admin never sees the link; nothing changes until the user uses it."""
    _check_grant(actor=actor, agency=user.agency, role=user.role)
    if not user.is_active:
        raise ApplicationError("That account is deactivated; reactivate it first.", code="conflict")
    if not user.email:
        raise ApplicationError(
            "That account has no email address to send the link to.", fields={"email": ["Required."]}
        )
    _audit_user(actor, AuditEvent.Action.UPDATE, user, {"step": "password_link_sent"})
    transaction.on_commit(lambda: user_send_invitation(user_id=user.pk))


def _send_email_changed_notice(*, to: str, username: str) -> None:
    body = render_to_string("accounts/email_changed_email.txt", {"username": username})
    send_mail("Your Safe Harbor account's email address changed", body, None, [to])


def user_send_invitation(*, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    if not user.email:
        return
    body = render_to_string(
        "accounts/invitation_email.txt", {"link": _set_password_link(user), "username": user.username}
    )
    send_mail("Your Safe Harbor account", body, None, [user.email])


def password_reset_request(*, email: str) -> None:
    """Email a one-time set-password link to the active accounts with this address.

    The caller always gets the same answer, whether or not the address is known, so the
    endpoint cannot be used to find out who has an account."""
    users = list(User.objects.filter(email__iexact=email, is_active=True))
    for user in users:
        body = render_to_string(
            "accounts/password_reset_email.txt", {"link": _set_password_link(user), "username": user.username}
        )
        send_mail("Safe Harbor password reset", body, None, [user.email])
    with transaction.atomic():
        for user in users:
            audit_record(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                object_type="user",
                object_id=user.pk,
                detail={"step": "password_reset_requested"},
            )


SELF_CHANGE_REFUSED = "You cannot change your own role, agency or active state; another admin must do it."
ROLE_CROSSING_REFUSED = (
    "A role moves only among the case roles (case_worker, supervisor, mdt_member) or among the "
    "non-case roles; to move this person across, create a new account for them."
)


def _changes(user: User, data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in USER_FIELDS if name in data and getattr(user, name) != data[name]}


def user_update_check(*, actor: User, user: User, data: dict[str, Any]) -> None:
    """Every rule a change of `user` must pass (SPEC §1), without changing anything: the API's
    PATCH and the Django admin's change form (as form errors) both call it, and user_update
    calls it again inside its transaction."""
    if "password" in data and data["password"]:
        _refuse_admin_password()
    changes = _changes(user, data)
    if user.pk == actor.pk and changes.keys() & {"role", "agency", "is_active"}:
        # Separation of duties: no one widens (or narrows) their own access.
        raise ApplicationError(SELF_CHANGE_REFUSED, code="forbidden")
    _check_grant(actor=actor, agency=data.get("agency", user.agency), role=data.get("role", user.role))
    if not is_system_admin(actor):
        # An agency admin may not edit a system admin or auditor of their agency either.
        _check_grant(actor=actor, agency=user.agency, role=user.role)
    # Then what no one may do, whoever asks (a role the actor may not grant is refused above, 403).
    if "role" in changes and is_case_side_role(changes["role"]) != is_case_side_role(user.effective_role):
        raise ApplicationError(ROLE_CROSSING_REFUSED, fields={"role": ["Create a new account for the other side."]})


@transaction.atomic
def user_update(*, actor: User, user: User, data: dict[str, Any], if_match: str | None = None) -> User:
    """Change a user's details, role, agency or active state. Deactivating ends every token and
    session at once (user_sessions_end). A stale If-Match is checked on the locked row (412)."""
    user = User.objects.select_for_update(of=("self",)).select_related("agency").get(pk=user.pk)
    check_if_match(user, if_match)
    user_update_check(actor=actor, user=user, data=data)
    changes = _changes(user, data)
    if "email" in changes and user.email:
        # Set-password links go to this address, so an admin who changed it to their own could
        # take the account over: the old address is told (on commit), and the audit names the field.
        old_email, username = user.email, user.username
        transaction.on_commit(lambda: _send_email_changed_notice(to=old_email, username=username))
    for name, value in changes.items():
        setattr(user, name, value)
    if changes:
        user.save()
        if "is_active" in changes and not user.is_active:
            user_sessions_end(user=user)
    _audit_user(actor, AuditEvent.Action.UPDATE, user, {"fields": sorted(changes)})
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """The user chooses a password (from an invitation or reset link): validated, set, and every
    token and session from before ended — a reset is how someone shuts out whoever had their
    old password."""
    try:
        validate_password(password, user)
    except Exception as exc:  # django ValidationError: field messages, never the password
        raise ApplicationError("Password rejected.", fields={"password": list(getattr(exc, "messages", []))}) from exc
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_sessions_end(user=user)
    audit_record(
        actor=user,
        action=AuditEvent.Action.UPDATE,
        object_type="user",
        object_id=user.pk,
        detail={"fields": ["password"], "via": "invitation"},  # an invitation or reset link
    )
    return user


def _session_store() -> Any:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        # A cache- or cookie-only session cannot be found by user, so could not be ended.
        raise ImproperlyConfigured("SESSION_ENGINE must keep sessions in the database (db or cached_db).")
    return store


def user_sessions_end(*, user: User) -> dict[str, int]:
    """End every knox token and every Django session of `user` — deleted, not suspended, so that
    reactivating the user revives none of them (SPEC §1). Call it inside the transaction of the
    change that requires it. Returns how many of each were ended (counts only, for the audit).

    Sessions are found by reading the session table: only admin-site logins and set-password
    visits create rows, and `clearsessions` keeps expired ones out, so the table stays small."""
    tokens, _ = AuthToken.objects.filter(user=user).delete()
    store = _session_store()
    decoder = store()
    uid = str(user.pk)
    keys = [
        row.session_key
        for row in store.get_model_class().objects.only("session_key", "session_data").iterator()
        if str(decoder.decode(row.session_data).get(SESSION_KEY)) == uid
    ]
    for key in keys:
        store(session_key=key).delete()  # through the store: cached_db forgets its cache copy too
    return {"tokens": tokens, "sessions": len(keys)}


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    if user.pk == actor.pk:
        raise ApplicationError(SELF_CHANGE_REFUSED, code="forbidden")
    _check_grant(actor=actor, agency=user.agency, role=user.role)
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    user_sessions_end(user=user)
    _audit_user(actor, AuditEvent.Action.ACCESS_CHANGE, user, {"is_active": False})
    return user


# --- authentication -----------------------------------------------------------------------------


def mfa_required_for(user: User) -> bool:
    if not settings.HARBOR_MFA_ENFORCED:
        return False
    return settings.HARBOR_MFA_REQUIRED_FOR_ALL or user.effective_role in MFA_ROLES


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Axes calls this for a locked-out username, on the API and the admin login alike."""
    return JsonResponse({"detail": "Too many failed attempts; try again later.", "code": "throttled"}, status=429)


def token_login(*, request: HttpRequest, username: str, password: str, otp: str | None) -> tuple[str, Any]:
    """Check credentials (axes counts failures and locks), MFA, and issue a token.

    Raises ApplicationError: `throttled` when locked out, `invalid`-like 400 for bad credentials
    (one message for unknown user and wrong password)."""
    from .mfa import mfa_verify  # local: the MFA module depends on this one

    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise ApplicationError("Too many failed attempts; try again later.", code="throttled")
    if user is None:
        raise ApplicationError("Unable to log in with those credentials.", code="invalid")
    if not mfa_verify(user=user, otp=otp, required=mfa_required_for(user)):
        # A missing or wrong code is a failed login like a wrong password: axes counts it toward
        # the lockout (through the same signal), the audit records it, and the caller gets the
        # same answer, so the reply never confirms that the password was right.
        login_failed_after_password(request=request, username=username)
        if getattr(request, "axes_locked_out", False):
            raise ApplicationError("Too many failed attempts; try again later.", code="throttled")
        raise ApplicationError("Unable to log in with those credentials.", code="invalid")
    with transaction.atomic():
        # Expired tokens are tidied here rather than on every request (see the authentication).
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        instance, token = AuthToken.objects.create(user=user)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        audit_record(actor=user, action=AuditEvent.Action.LOGIN, object_type="user", object_id=user.pk)
        audit_record(
            actor=user,
            action=AuditEvent.Action.TOKEN_CREATED,
            object_type="token",
            object_id=token_fingerprint(instance),
        )
    # A token login sends no `user_logged_in` (that signal is the admin's session login), so tell
    # axes directly: the failure count resets on success (AXES_RESET_ON_SUCCESS), as it does on
    # the admin login.
    AxesProxyHandler.user_logged_in(sender=token_login, request=request, user=user)
    return token, instance.expiry


def login_failed_after_password(*, request: HttpRequest, username: str) -> None:
    """Report a login whose password was right but whose one-time code was missing or wrong, as
    Django reports a wrong password: axes counts it and the audit receiver records it."""
    user_login_failed.send(sender=__name__, credentials={"username": username, "otp_failed": True}, request=request)


def tokens_purge_expired(*, now: Any = None) -> int:
    """Delete every expired token (of anyone); returns how many. Expired tokens are refused at
    authentication already: this is housekeeping, run hourly by beat."""
    deleted, _ = AuthToken.objects.filter(expiry__lt=now or timezone.now()).delete()
    return int(deleted)


@transaction.atomic
def token_logout(*, user: User, token: Any) -> None:
    fingerprint = token_fingerprint(token)
    token.delete()
    audit_record(
        actor=user,
        action=AuditEvent.Action.LOGOUT,
        object_type="user",
        object_id=user.pk,
        detail={"token": fingerprint},
    )


def token_fingerprint(token: AuthToken) -> str:
    """How the audit log names a token: a prefix of its stored SHA-512 digest. The digest's primary
    key is 128 characters (too long for `object_id`), and the token's own `token_key` prefix is
    part of the secret, which has no place in a permanent log."""
    return str(token.digest)[:16]


# --- reference data -------------------------------------------------------------------------------


@transaction.atomic
def agencies_bootstrap() -> int:
    created = 0
    for code, name, kind in PARTNER_AGENCIES:
        _, was_created = Agency.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
        created += int(was_created)
    return created
