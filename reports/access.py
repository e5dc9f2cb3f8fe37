"""The agency access report (SPEC §1, §6): the quarterly review of accounts that CJIS-style
policies ask an agency to hold. Every user of the agency with role, active state, MFA state,
last sign-in, open sessions and tokens, and MDT team memberships; and the agency's
participations in cases by legal basis and expiry, as counts only (never a case, a youth or a
case number)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts.models import Agency, User
from audit.models import AuditEvent
from audit.services.record import audit_record
from cases.models import CaseAgency
from core.errors import ApplicationError
from core.permissions import is_agency_admin, is_system_admin
from mdt.models import TeamMembership

#: A participation "expiring soon" ends within this many days (the renewal window of SPEC §1).
EXPIRING_WITHIN = dt.timedelta(days=30)

USER_COLUMNS = (
    "id",
    "username",
    "first_name",
    "last_name",
    "email",
    "role",
    "is_active",
    "mfa_enrolled",
    "last_login",
    "open_sessions",
    "open_tokens",
    "teams",
)
BASIS_COUNT_COLUMNS = ("legal_basis", "active", "expiring_within_30_days", "expired", "revoked")


@dataclass(frozen=True)
class AccessReport:
    agency: Agency
    generated_at: dt.datetime
    users: list[dict[str, Any]]
    participations: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency.code,
            "generated_at": self.generated_at.isoformat(),
            "users": self.users,
            "participations": self.participations,
        }

    def as_csv(self) -> str:
        """Two tables in one file, as a spreadsheet opens it: the users, a blank line, the
        participation counts. Team memberships as `team name (coordinator); …`."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(USER_COLUMNS)
        for row in self.users:
            teams = "; ".join(f"{t['name']}{' (coordinator)' if t['is_coordinator'] else ''}" for t in row["teams"])
            writer.writerow([_csv_safe(row[c]) if c != "teams" else _csv_safe(teams) for c in USER_COLUMNS])
        writer.writerow([])
        writer.writerow(BASIS_COUNT_COLUMNS)
        for row in self.participations:
            writer.writerow([row[c] for c in BASIS_COUNT_COLUMNS])
        return out.getvalue()


def _csv_safe(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading
    apostrophe (OWASP CSV injection): names and emails are typed by people."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def access_report_agency(*, actor: Any, code: str) -> Agency:
    """The agency whose report `actor` may read: their own as an agency admin, any as a system
    admin. Agencies are not secret, so another agency's report is 403, an unknown code 404."""
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        raise ApplicationError("No agency has that code; send one of GET /api/v1/agencies/.", code="not_found")
    if is_system_admin(actor) or (is_agency_admin(actor) and actor.agency_id == agency.pk):
        return agency
    raise ApplicationError("Only the agency's own admins and system admins read its access report.", code="forbidden")


def _open_sessions_by_user(user_ids: set[int], now: dt.datetime) -> Counter[int]:
    """Unexpired Django sessions per user (admin-site and web sign-ins), read through the
    configured session store as accounts.services.user_sessions_end reads them."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    decoder = store()
    counts: Counter[int] = Counter()
    rows = store.get_model_class().objects.filter(expire_date__gt=now).only("session_key", "session_data")
    for row in rows.iterator():
        uid = decoder.decode(row.session_data).get(SESSION_KEY)
        if uid is not None and str(uid).isdigit() and int(uid) in user_ids:
            counts[int(uid)] += 1
    return counts


def access_report_build(*, actor: Any, agency: Agency) -> AccessReport:
    """Build the report and record that `actor` read it (one `export` event, counts only)."""
    now = timezone.now()
    users = list(User.objects.filter(agency=agency).order_by("username"))
    ids = {u.pk for u in users}
    mfa = set(TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True))
    tokens = Counter(
        AuthToken.objects.filter(user_id__in=ids)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .values_list("user_id", flat=True)
    )
    sessions = _open_sessions_by_user(ids, now)
    teams: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in TeamMembership.objects.filter(user_id__in=ids).select_related("team").order_by("team__name"):
        teams[m.user_id].append({"team": m.team_id, "name": m.team.name, "is_coordinator": m.is_coordinator})
    user_rows = [
        {
            "id": u.pk,
            "username": u.username,
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": u.email,
            "role": u.role,
            "is_active": u.is_active,
            "mfa_enrolled": u.pk in mfa,
            "last_login": u.last_login.isoformat() if u.last_login else None,
            "open_sessions": sessions[u.pk],
            "open_tokens": tokens[u.pk],
            "teams": teams[u.pk],
        }
        for u in users
    ]
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    counts = (
        CaseAgency.objects.filter(agency=agency)
        .values("legal_basis")
        .annotate(
            active=Count("id", filter=live),
            expiring=Count("id", filter=live & Q(expires_at__lte=now + EXPIRING_WITHIN)),
            expired=Count("id", filter=Q(revoked_at__isnull=True, expires_at__lte=now)),
            revoked=Count("id", filter=Q(revoked_at__isnull=False)),
        )
    )
    by_basis: dict[str, dict[str, Any]] = {row["legal_basis"]: dict(row) for row in counts}
    participations = [
        {
            "legal_basis": basis,
            "active": by_basis.get(basis, {}).get("active", 0),
            "expiring_within_30_days": by_basis.get(basis, {}).get("expiring", 0),
            "expired": by_basis.get(basis, {}).get("expired", 0),
            "revoked": by_basis.get(basis, {}).get("revoked", 0),
        }
        for basis in CaseAgency.LegalBasis.values
    ]
    return AccessReport(agency=agency, generated_at=now, users=user_rows, participations=participations)


def access_report_audit(*, actor: Any, agency: Agency, report: AccessReport, format: str, via: str) -> None:  # noqa: A002
    audit_record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        object_type="access_report",
        object_id=agency.pk,
        detail={"format": format, "via": via, "users": len(report.users)},
    )
