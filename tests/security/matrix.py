"""The project-wide authorization matrix (SPEC §1, §6, §8) — as data.

One row per (operation, role, scope): the operation is the method and path exactly as in the
OpenAPI schema, the role one of ROLES, the scope one of the objects of tests/security/world.py
(named relative to the caller's agency), and the expected status is what SPEC says:

- SPEC §1: an object a user may not see answers 404 (never 403, never a hint it exists); a role
  that may see it but not do the action gets 403; anonymous callers get 401.
- case_worker: the cases whose team they are on and the referrals they created — never another
  case of their agency; supervisor: every case and referral their agency participates in (an
  unexpired, unrevoked participation: an expired one stops access by itself).
- mdt_member: their teams' meetings and agenda views; never case records or notes.
- agency_admin: users of their own agency (another agency's user: 404); system_admin: every
  agency's users, MDT teams and their membership; auditor: the audit log. None of them reads
  case data: a case-data path naming an object answers 404, a case-data collection 403.
- Notes: team — who sees the case; agency — the author's agency; clinical — DMH users only.
- Placement addresses and protected alert details: the lead agency's case team only.

Where SPEC is silent, the rows follow the owning app's documented decision, marked "app
decision" at the rule that encodes it:
- the case record (court, csec_status) is edited by the lead agency; closing, sharing, renewing
  and revoking are for its supervisors; a participating agency works the case's parts;
- referrals are screened, accepted, declined and marked duplicate by supervisors of the
  receiving agency (SPEC §1: edited by their creator until decided, by the receiving agency's
  supervisors after);
- supervisors read the users of their own agency (they assign workers) but do not manage them;
  auditor and system_admin are global roles an agency admin neither grants nor manages;
- MDT coordinators schedule, build, publish, hold, finalise and cancel; teams are reference data
  (a non-member naming one gets 403, its meetings 404); the roster is for members and system
  admins; the deadline, meeting and action-item lists answer 200 (possibly empty) to everyone.
Statuses are written from these rules, never copied from what the code answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --- roles ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    key: str
    username: str | None
    agency: str | None = None
    role: str | None = None  # the SPEC §1 role
    team: str | None = None  # the court MDT team they sit on
    coordinator: bool = False

    @property
    def anonymous(self) -> bool:
        return self.username is None

    @property
    def case_role(self) -> bool:
        return self.role in {"case_worker", "supervisor"}

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def may_sit_on_team(self) -> bool:
        """SPEC §4: members are MDT members, or case workers and supervisors who sit on a team."""
        return self.role in {"case_worker", "supervisor", "mdt_member"}

    @property
    def home(self) -> str:
        """The agency the relative scopes are read from (DCFS for a user of no partner agency)."""
        return self.agency if self.agency in {"DCFS", "DMH", "SHERIFF", "PROBATION"} else "DCFS"


def _case_roles() -> list[Role]:
    roles = []
    for agency in ("DCFS", "DMH", "PROBATION", "SHERIFF"):
        for role in ("case_worker", "supervisor"):
            # The DMH clinician also sits on the STAR team (SPEC §4: case workers may).
            team = "STAR" if (agency, role) == ("DMH", "case_worker") else None
            roles.append(Role(f"{agency}.{role}", f"{agency.lower()}_{role}", agency, role, team))
    return roles


ROLES: list[Role] = [
    Role("anonymous", None),
    *_case_roles(),
    Role("STAR.coordinator", "star_coordinator", "PROBATION", "mdt_member", "STAR", coordinator=True),
    Role("STAR.mdt_member", "star_member", "SHERIFF", "mdt_member", "STAR"),
    Role("DCFS.agency_admin", "dcfs_agency_admin", "DCFS", "agency_admin"),
    Role("DCFS.auditor", "dcfs_auditor", "DCFS", "auditor"),
    Role("system_admin", "root", None, "system_admin"),
]
ROLES_BY_KEY = {r.key: r for r in ROLES}

# --- scopes --------------------------------------------------------------------------------------

#: Cases, relative to the caller's agency X (see world.py).
CASE_SCOPES = ("own", "agency_case", "shared", "expired_share", "other_agency")
#: Who sees the case of each scope, by SPEC role.
SEES_CASE = {
    "own": {"case_worker", "supervisor"},  # X leads it; X's case worker is on the team
    "agency_case": {"supervisor"},  # X leads it; X's case worker is not on the team
    "shared": {"case_worker", "supervisor"},  # shared with X; X's case worker on the team
    "expired_share": set(),  # X's consent expired (its worker is still on the team)
    "other_agency": set(),  # never shared with X
}
#: Scopes that name a case part with a particular body or object; the case is the named one.
CASE_OF = {
    **{s: s for s in CASE_SCOPES},
    "clinical_write": "own",  # a clinical note, written on the caller's own case
    "own_with_address": "own",  # a placement address / protected alert detail, own case
    "shared_with_address": "shared",
}
#: Notes on the DCFS-led case written by the DMH clinician (fixed objects, not relative).
FIXED_NOTE_SCOPES = ("clinical_note", "agency_note")
#: How an agency stands to the DCFS-led case: DMH shares it, SHERIFF's consent expired.
DCFS_CASE_RELATION = {"DCFS": "own", "DMH": "shared", "SHERIFF": "expired_share", "PROBATION": "other_agency"}

#: Pending referrals, relative to X: received by X and referred by X's worker (`pending`),
#: referred by X's worker to the next agency (`sent`), referred to X by the previous agency's
#: worker (`incoming`), between two other agencies (`other_pending`).
PENDING_SCOPES = ("pending", "sent", "incoming", "other_pending")
SEES_REFERRAL = {
    "own": {"case_worker", "supervisor"},  # the referral of K[X]; X's worker created it
    "agency_case": {"supervisor"},
    "shared": {"case_worker", "supervisor"},  # the referral of a case they see
    "expired_share": set(),
    "other_agency": set(),
    "pending": {"case_worker", "supervisor"},
    "sent": {"case_worker", "supervisor"},  # the creator; the referring agency's supervisor
    "incoming": {"supervisor"},  # the receiving agency's supervisor
    "other_pending": set(),
}
#: Merge sources: the youth of a pending referral of X / of an incoming referral / of cases X
#: does not see; merged into the youth of X's own case.
MERGE_SCOPES = ("pending", "incoming", "expired_share", "other_agency")
SEES_YOUTH = {**SEES_CASE, "pending": {"case_worker", "supervisor"}, "incoming": {"supervisor"}}

MDT_SCOPES = ("team_meeting", "other_team_meeting")  # a STAR meeting / a DREAM meeting
ROSTER_SCOPES = ("team", "other_team")  # the STAR / DREAM roster
USER_SCOPES = ("own_agency_user", "other_agency_user", "agency_auditor")
NEW_USER_SCOPES = ("own_agency", "other_agency", "auditor_role")
NOTIFICATION_SCOPES = ("own_notification", "other_notification")
#: Pending share requests, relative to X: awaiting X (on a case X leads), raised by X (on a case
#: the previous agency leads), between two other agencies.
SHARE_SCOPES = ("awaiting", "requested", "other_request")
NONE = ("-",)


def case_relation(r: Role, scope: str) -> str:
    if scope in FIXED_NOTE_SCOPES:
        return DCFS_CASE_RELATION[r.home]
    return CASE_OF[scope]


def sees_case(r: Role, scope: str) -> bool:
    return r.case_role and r.role in SEES_CASE[case_relation(r, scope)]


# --- expected statuses ---------------------------------------------------------------------------

Rule = Callable[[Role, str], "int | None"]


def authenticated(ok: int) -> Rule:
    """Any signed-in user; anonymous 401."""
    return lambda r, s: 401 if r.anonymous else ok


def public(ok: int) -> Rule:
    """No credentials needed (the body or the path carries the credential)."""
    return lambda r, s: ok


def case_collection(ok: int) -> Rule:
    """A case-data collection: case roles only; the other roles are refused outright (403)."""
    return lambda r, s: 401 if r.anonymous else (ok if r.case_role else 403)


def case_object(ok: int, may: Rule | None = None, sees: Callable[[Role, str], bool] = sees_case) -> Rule:
    """A path naming a case (or a part, a youth, a referral, a deadline): 404 unless the caller
    sees it, 403 if they see it but may not do this, `ok` otherwise."""

    def rule(r: Role, s: str) -> int:
        if r.anonymous:
            return 401
        if not r.case_role or not sees(r, s):
            return 404
        if may is not None:
            verdict = may(r, s)
            if verdict is not True:
                return 403 if verdict is False else int(verdict)
        return ok

    return rule


def sees_referral(r: Role, s: str) -> bool:
    return r.case_role and r.role in SEES_REFERRAL[s]


def sees_youth(r: Role, s: str) -> bool:
    return r.case_role and r.role in SEES_YOUTH[s]


def lead_agency(r: Role, s: str) -> bool:
    """App decision (cases): the case record itself is edited by its lead agency — its
    supervisors and its people on the team; a participating agency works the case's parts."""
    return case_relation(r, s) in {"own", "agency_case"}


def lead_supervisor(r: Role, s: str) -> bool:
    """App decision (cases): closing and sharing a case is for the lead agency's supervisors."""
    return r.supervisor and lead_agency(r, s)


def supervisor(r: Role, s: str) -> bool:
    """SPEC §1: supervisors assign workers (the lead's anyone, a participant's its own people)."""
    return r.supervisor


def lead_case_team(r: Role, s: str) -> bool:
    """SPEC §2: placement addresses and protected details — the lead agency's case team only
    (the supervisor sees the case but is not on its team)."""
    return lead_agency(r, s) and r.role == "case_worker"


def dmh(r: Role, s: str) -> bool:
    """SPEC §2: clinical notes are written only by DMH users (WIC 5328)."""
    return r.agency == "DMH"


def sees_note(r: Role, s: str) -> bool:
    if not sees_case(r, s):
        return False
    if s == "clinical_note":
        return r.agency == "DMH"  # read only by DMH users who may see the case
    if s == "agency_note":
        return r.agency == "DMH"  # the author's agency
    return True  # team notes: everyone who sees the case


#: Scopes whose referral is decided (the referrals of cases: accepted).
DECIDED_REFERRAL_SCOPES = set(CASE_SCOPES)


def decides_share(r: Role, s: str) -> bool:
    """SPEC §1 "Sharing has one door": a share request is the business of the lead agency's
    supervisors only — they list, approve and decline it; to everyone else, the requesting
    agency included, it does not exist (404; the list is empty)."""
    return r.supervisor and s == "awaiting"


def may_edit_referral(r: Role, s: str) -> bool:
    """SPEC §1: a referral is edited by its creator until it is decided (X's case worker created
    the `pending` and `sent` ones) and by the receiving agency's supervisors after (X receives
    the referrals of the cases it leads)."""
    if s in DECIDED_REFERRAL_SCOPES:
        return r.supervisor and lead_agency(r, s)
    return r.role == "case_worker" and s in {"pending", "sent"}


def may_merge(r: Role, s: str) -> bool:
    """SPEC §2: a supervisor whose agency has both records in its charge. The target is the
    youth of X's own case (X leads it); the `pending` source is held by X with no open case;
    the `incoming` one is held by the referring agency, which has no case to share with X."""
    return r.supervisor and s == "pending"


def may_unmerge(r: Role, s: str) -> bool | int:
    """The same rights at unmerge time; the `incoming` record could never be merged (409)."""
    if not r.supervisor:
        return False
    return True if s == "pending" else 409


def may_decide(r: Role, s: str) -> bool | int:
    """App decision (cases): supervisors of the receiving agency screen, accept, decline and
    mark duplicates; SPEC §2: an action not allowed from the current status answers 409."""
    if not (r.supervisor and s in {"own", "pending", "incoming"}):
        return False
    return 409 if s == "own" else True  # the referral of K[X] is already accepted


# users (SPEC §1: agency admins manage their own agency; system admins every agency)


def _user_visible(r: Role, s: str) -> bool:
    if r.role == "system_admin":
        return True
    # agency admins — and, app decision (accounts), supervisors, who assign workers — see the
    # users of their own agency.
    return s in {"own_agency_user", "agency_auditor"}


def user_read(r: Role, s: str) -> int:
    if r.anonymous:
        return 401
    if r.role not in {"agency_admin", "system_admin", "supervisor"}:
        return 403
    return 200 if s == "-" or _user_visible(r, s) else 404


def user_manage(ok: int, *, supervisors_see: bool) -> Rule:
    def rule(r: Role, s: str) -> int:
        if r.anonymous:
            return 401
        roles = {"agency_admin", "system_admin"} | ({"supervisor"} if supervisors_see else set())
        if r.role not in roles:
            return 403
        if not _user_visible(r, s):
            return 404
        if r.supervisor:
            return 403
        # App decision (accounts): auditor and system_admin are global roles, granted by a
        # system admin only — an agency admin may not manage them even in their own agency.
        if r.role == "agency_admin" and s == "agency_auditor":
            return 403
        return ok

    return rule


def user_create(r: Role, s: str) -> int:
    if r.anonymous:
        return 401
    if r.role not in {"agency_admin", "system_admin"}:
        return 403
    if r.role == "agency_admin" and s == "other_agency":
        return 400  # the agency field: must be their own agency
    if r.role == "agency_admin" and s == "auditor_role":
        return 403
    return 201


# court MDT (SPEC §1, §4)


def _member(r: Role, s: str) -> bool:
    return r.team == "STAR" and s in {"team_meeting", "team"}


def meeting_read(ok: int) -> Rule:
    """The team's members read its meetings; everyone else gets 404."""
    return lambda r, s: 401 if r.anonymous else (ok if _member(r, s) else 404)


def meeting_coordinate(ok: int) -> Rule:
    """App decision (mdt): coordinators build, publish and run the agenda; other members 403."""

    def rule(r: Role, s: str) -> int:
        if r.anonymous:
            return 401
        if not _member(r, s):
            return 404
        return ok if r.coordinator else 403

    return rule


def roster_read(r: Role, s: str) -> int:
    """App decision (mdt): teams are reference data; the roster is for the team and system admins."""
    if r.anonymous:
        return 401
    return 200 if r.role == "system_admin" or _member(r, s) else 403


def system_admin_only(ok: int) -> Rule:
    return lambda r, s: 401 if r.anonymous else (ok if r.role == "system_admin" else 403)


def meeting_schedule(r: Role, s: str) -> int:
    if r.anonymous:
        return 401
    return 201 if _member(r, s) and r.coordinator else 403  # the team is visible: 403, not 404


def action_item_create(r: Role, s: str) -> int:
    """SPEC §1: MDT members record action items for cases on their team's agendas. A meeting or
    case the caller cannot see is a 400 on that field; roles that never sit on a team 403."""
    if r.anonymous:
        return 401
    if not r.may_sit_on_team:
        return 403
    return 201 if _member(r, s) else 400


def action_item_update(r: Role, s: str) -> int:
    """App decision (mdt): coordinators edit an action item; its assignee (the DMH clinician)
    marks it done; other members see it (403)."""
    if r.anonymous:
        return 401
    if not _member(r, s):
        return 404
    return 200 if r.coordinator or r.key == "DMH.case_worker" else 403


def feed_rotate(r: Role, s: str) -> int:
    if r.anonymous:
        return 401
    return 201 if r.may_sit_on_team else 403


def auditor_only(r: Role, s: str) -> int:
    return 401 if r.anonymous else (200 if r.role == "auditor" else 403)


def token_login(r: Role, s: str) -> int | None:
    if s == "own_credentials":
        return None if r.anonymous else 200  # (anonymous has no credentials)
    return 400


def notification_read(r: Role, s: str) -> int | None:
    if r.anonymous:
        return 401
    if s == "own_notification":
        # Only those who were sent something have an inbox item: the workers and supervisors of
        # the lead agencies (the overdue reminders) and the STAR members (the agenda notice).
        return 200 if r.case_role or r.team else None
    return 404


def inbox(r: Role, s: str) -> int | None:
    """One's own inbox: always readable; the scope says whose notification to look for."""
    if r.anonymous:
        return 401
    return notification_read(r, s) and 200


# --- operations ----------------------------------------------------------------------------------

LATER = "{in_20_days}"


@dataclass
class Op:
    method: str
    path: str  # exactly as in the OpenAPI schema
    scopes: tuple[str, ...]
    rule: Rule
    body: Any = None
    query: str = ""
    #: OpenAPI path parameter -> name resolved from the world for (role, scope)
    params: dict[str, str] = field(default_factory=dict)
    #: a step that brings the scope's object to the state the operation needs (world, role, scope, names)
    prep: str = ""
    #: audit actions one of which a success must leave (SPEC §5); None: not case data,
    #: authentication or access management
    audit: set[str] | None = None
    #: the world name whose youth id the success's audit event must carry
    youth: str | None = None
    #: changes who sees what for every later request: run last when operations run in sequence
    late: bool = False
    #: who the audit event of a request without credentials names (the body's user, the feed's owner)
    audit_actor: str | None = None
    #: for a list: the world name of the scope's object, and whether the caller must find it
    #: in the answer (SPEC §1: visibility applies to every list, filter and search too)
    listed: tuple[str, Callable[[Role, str], bool]] | None = None

    @property
    def signed_in(self) -> bool:
        """False for the operations that take no credentials (the caller is nobody to them)."""
        return self.audit_actor is None and self.path != "/api/v1/auth/password-reset/"

    @property
    def key(self) -> tuple[str, str]:
        return (self.method.upper(), self.path)


CASE = {"id": "case"}
NEW_REFERRAL = {
    "youth": {"first_name": "Matrixnew", "last_name": "Referralnew", "date_of_birth": "2011-05-05"},
    "received_at": "{now}",
    "source": "school",
    "indicators": [],
}

OPERATIONS: list[Op] = [
    # --- authentication and the caller (SPEC §6) ---------------------------------------------------
    Op("post", "/api/v1/auth/token/", ("own_credentials", "wrong_password"), token_login,
       body={"username": "{login_username}", "password": "{login_password}"},
       audit={"login", "login_failed"}, audit_actor="login_user"),
    Op("post", "/api/v1/auth/password-reset/", ("-",), public(202), body={"email": "{login_email}"},
       audit=None),  # an event is written for a known address only (actor: none)
    Op("get", "/api/v1/me/", NONE, authenticated(200)),
    Op("get", "/api/v1/agencies/", NONE, authenticated(200)),
    Op("post", "/api/v1/me/mfa/totp/", NONE, authenticated(201), audit={"mfa_change"}),
    Op("post", "/api/v1/me/mfa/totp/confirm/", NONE, authenticated(200), body={"otp": "{otp}"}, prep="mfa_begun",
       audit={"mfa_change"}, late=True),
    # --- users (SPEC §1: admins) -----------------------------------------------------------------
    Op("get", "/api/v1/users/", USER_SCOPES, lambda r, s: user_read(r, "-"),
       listed=("user", lambda r, s: r.role in {"agency_admin", "system_admin", "supervisor"} and _user_visible(r, s))),
    Op("post", "/api/v1/users/", NEW_USER_SCOPES, user_create,
       body={"username": "matrix_new_user", "email": "new@example.invalid", "agency": "{new_user_agency}",
             "role": "{new_user_role}"}, audit={"create"}),
    Op("get", "/api/v1/users/{id}/", USER_SCOPES, user_read, params={"id": "user"}),
    Op("patch", "/api/v1/users/{id}/", USER_SCOPES, user_manage(200, supervisors_see=True),
       body={"first_name": "Renamed"}, params={"id": "user"}, audit={"update"}),
    Op("post", "/api/v1/users/{id}/send-password-link/", USER_SCOPES, user_manage(202, supervisors_see=False),
       params={"id": "user"}, audit={"update"}),  # before deactivate: an inactive user gets no link (409)
    Op("post", "/api/v1/users/{id}/deactivate/", USER_SCOPES, user_manage(200, supervisors_see=False),
       params={"id": "user"}, audit={"access_change"}),
    Op("post", "/api/v1/users/{id}/reset-mfa/", USER_SCOPES, user_manage(204, supervisors_see=False),
       params={"id": "user"}, audit={"mfa_change"}),
    # --- audit (SPEC §1: auditors) ---------------------------------------------------------------
    Op("get", "/api/v1/audit-events/", NONE, auditor_only, audit={"list"}),
    Op("post", "/api/v1/audit-events/verify/", NONE, auditor_only, audit={"verify"}),
    Op("get", "/api/v1/audit-events/verify/{id}/", NONE, auditor_only, params={"id": "verify_job"}, prep="verify_job"),
    # --- youth (SPEC §2) -------------------------------------------------------------------------
    Op("get", "/api/v1/youth/", CASE_SCOPES, case_collection(200), audit={"list"}, listed=("youth", sees_youth)),
    Op("post", "/api/v1/youth/", NONE, case_collection(201),
       body={"first_name": "Matrixnew", "last_name": "Youthnew", "date_of_birth": "2011-04-04"}, audit={"create"}),
    # SPEC §2, §5: every duplicate search is audited as `search` (a keyed hash of its values).
    Op("get", "/api/v1/youth/matches/", NONE, case_collection(200), query="?first_name=Matrix&last_name=Seeded",
       audit={"search"}),
    Op("get", "/api/v1/youth/{id}/", CASE_SCOPES, case_object(200, sees=sees_youth), params={"id": "youth"},
       audit={"view"}, youth="youth"),
    # SPEC §1: the youth of an open case is edited by the lead agency's case team and supervisors
    # (a participating agency sees it: 403).
    Op("patch", "/api/v1/youth/{id}/", CASE_SCOPES, case_object(200, lead_agency, sees=sees_youth),
       body={"pronouns": "they/them"}, params={"id": "youth"}, audit={"update"}, youth="youth"),
    # SPEC §2: merging two youth records is for a supervisor whose agency has both in its
    # charge; logged and reversible.
    Op("post", "/api/v1/youth/{id}/merge/", MERGE_SCOPES, case_object(200, may_merge, sees=sees_youth),
       body={"into": "{own_youth}"}, params={"id": "merge_youth"}, audit={"update"}, youth="merge_youth"),
    Op("post", "/api/v1/youth/{id}/unmerge/", MERGE_SCOPES, case_object(200, may_unmerge, sees=sees_youth),
       params={"id": "merge_youth"}, prep="merged", audit={"update"}, youth="merge_youth"),
    # --- referrals (SPEC §2) ---------------------------------------------------------------------
    Op("get", "/api/v1/referrals/", CASE_SCOPES + PENDING_SCOPES, case_collection(200), audit={"list"},
       listed=("referral", sees_referral)),
    Op("post", "/api/v1/referrals/", NONE, case_collection(201), body=NEW_REFERRAL, audit={"create"}),
    Op("get", "/api/v1/referrals/{id}/", CASE_SCOPES + PENDING_SCOPES, case_object(200, sees=sees_referral),
       params={"id": "referral"}, audit={"view"}, youth="referral_youth"),
    Op("patch", "/api/v1/referrals/{id}/", CASE_SCOPES + PENDING_SCOPES,
       case_object(200, may_edit_referral, sees=sees_referral), body={"narrative": "Synthetic update."},
       params={"id": "referral"}, audit={"update"}, youth="referral_youth"),
    Op("post", "/api/v1/referrals/{id}/screen/", ("own", *PENDING_SCOPES), case_object(200, may_decide, sees_referral),
       body={"level": "possible_concern", "instrument": "CSE-IT"}, params={"id": "screen_referral"},
       audit={"transition"}, youth="screen_referral_youth"),
    Op("post", "/api/v1/referrals/{id}/accept/", ("own", *PENDING_SCOPES), case_object(200, may_decide, sees_referral),
       params={"id": "accept_referral"}, prep="screened", audit={"transition"}, youth="accept_referral_youth"),
    Op("post", "/api/v1/referrals/{id}/decline/", ("own", *PENDING_SCOPES), case_object(200, may_decide, sees_referral),
       body={"reason": "Synthetic reason"}, params={"id": "decline_referral"}, audit={"transition"},
       youth="decline_referral_youth"),
    Op("post", "/api/v1/referrals/{id}/mark-duplicate/", ("own", *PENDING_SCOPES),
       case_object(200, may_decide, sees_referral), body={}, params={"id": "duplicate_referral"},
       audit={"transition"}, youth="duplicate_referral_youth"),
    # --- cases (SPEC §2) -------------------------------------------------------------------------
    Op("get", "/api/v1/cases/", CASE_SCOPES, case_collection(200), audit={"list"}, listed=("case", sees_case)),
    Op("get", "/api/v1/cases/{id}/", CASE_SCOPES, case_object(200), params=CASE, audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/cases/{id}/", CASE_SCOPES, case_object(200, lead_agency), body={"csec_status": "identified"},
       params=CASE, audit={"update"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/team/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/agencies/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/notes/", CASE_SCOPES + FIXED_NOTE_SCOPES, case_object(200), params=CASE,
       audit={"list"}, youth="youth", listed=("note", sees_note)),
    Op("post", "/api/v1/cases/{id}/notes/", (*CASE_SCOPES, "clinical_write"),
       case_object(201, lambda r, s: s != "clinical_write" or dmh(r, s)),
       body={"body": "Synthetic note.", "visibility": "{note_visibility}"}, params=CASE, audit={"create"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/notes/{note_id}/", CASE_SCOPES + FIXED_NOTE_SCOPES, case_object(200, sees=sees_note),
       params={"id": "case", "note_id": "note"}, audit={"view"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/missing-episodes/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/missing-episodes/", CASE_SCOPES, case_object(201),
       body={"missing_since": "{hours_ago_3}", "learned_at": "{hours_ago_2}"}, params=CASE, audit={"create"},
       youth="youth"),
    Op("get", "/api/v1/missing-episodes/{id}/", CASE_SCOPES, case_object(200), params={"id": "episode"},
       audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/missing-episodes/{id}/", CASE_SCOPES, case_object(200), body={"ncic_number": "M000001"},
       params={"id": "episode"}, audit={"update"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/placements/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/placements/", (*CASE_SCOPES, "own_with_address", "shared_with_address"),
       case_object(201, lambda r, s: "address" not in s or lead_case_team(r, s)),
       body={"placement_type": "shelter", "start_date": "2026-02-01", "address": "{address}"}, params=CASE,
       audit={"create"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/services/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/services/", CASE_SCOPES, case_object(201),
       body={"provider": "Synthetic clinic", "referred_at": "{hours_ago_2}"}, params=CASE, audit={"create"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/hearings/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/hearings/", CASE_SCOPES, case_object(201),
       body={"starts_at": LATER, "hearing_type": "review"}, params=CASE, audit={"create"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/alerts/", CASE_SCOPES, case_object(200), params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/alerts/", (*CASE_SCOPES, "own_with_address", "shared_with_address"),
       case_object(201, lambda r, s: "address" not in s or lead_case_team(r, s)),
       body={"kind": "known_exploiter", "summary": "Synthetic alert", "protected_detail": "{address}"},
       params=CASE, audit={"create"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/timeline/", CASE_SCOPES, case_object(200), params=CASE, audit={"view"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/history/", CASE_SCOPES, case_object(200), params=CASE, audit={"view"},
       youth="youth"),
    # Access to a case (SPEC §1): who is on it, which agencies share it.
    Op("post", "/api/v1/cases/{id}/team/", CASE_SCOPES, case_object(201, supervisor),
       body={"user": "{me}", "role": "supervisor"}, params=CASE, audit={"access_change"}, youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/agencies/", CASE_SCOPES, case_object(201, lead_supervisor),
       body={"agency": "{grantable}", "legal_basis": "mdt_18961_7"}, params=CASE, audit={"access_change"},
       youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/agencies/{agency_code}/renew/", CASE_SCOPES, case_object(200, lead_supervisor),
       body={"good_cause": "Synthetic good cause", "expires_at": LATER},
       params={"id": "case", "agency_code": "shared_agency"}, audit={"access_change"}, youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/agencies/{agency_code}/revoke/", CASE_SCOPES, case_object(200, lead_supervisor),
       params={"id": "case", "agency_code": "shared_agency"}, audit={"access_change"}, youth="youth", late=True),
    # SPEC §1 "Sharing has one door": share requests, decided by the lead agency's supervisors.
    Op("get", "/api/v1/share-requests/", SHARE_SCOPES, case_collection(200), audit={"list"},
       listed=("share_request", decides_share)),
    Op("post", "/api/v1/share-requests/{id}/approve/", SHARE_SCOPES, case_object(200, sees=decides_share),
       body={"legal_basis": "mdt_18961_7"}, params={"id": "share_request"}, audit={"access_change"},
       youth="share_request_youth"),
    Op("post", "/api/v1/share-requests/{id}/decline/", SHARE_SCOPES, case_object(200, sees=decides_share),
       body={"reason": "Synthetic reason"}, params={"id": "share_request2"}, audit={"access_change"},
       youth="share_request2_youth"),
    Op("post", "/api/v1/cases/{id}/close/", CASE_SCOPES, case_object(200, lead_supervisor),
       body={"reason": "Synthetic reason"}, params=CASE, audit={"transition"}, youth="youth", late=True),
    Op("delete", "/api/v1/cases/{id}/team/{member_id}/", CASE_SCOPES, case_object(200, supervisor),
       params={"id": "case", "member_id": "member"}, audit={"access_change"}, youth="youth", late=True),
    # --- deadlines and notifications (SPEC §3) ---------------------------------------------------
    # App decision (notifications): the list is "those the user may see" — none for the roles
    # without case data, still a 200.
    Op("get", "/api/v1/deadlines/", CASE_SCOPES, authenticated(200), audit={"list"}, listed=("deadline", sees_case)),
    Op("post", "/api/v1/deadlines/{id}/waive/", CASE_SCOPES, case_object(200, lead_supervisor),
       body={"reason": "Synthetic reason"}, params={"id": "deadline"}, audit={"transition"}, youth="youth"),
    # The inbox and preferences are the caller's own, not case data (SPEC §5): no read event.
    Op("get", "/api/v1/notifications/", NOTIFICATION_SCOPES, inbox,
       listed=("notification", lambda r, s: s == "own_notification")),
    Op("get", "/api/v1/notifications/unread-count/", NONE, authenticated(200)),
    Op("post", "/api/v1/notifications/{id}/read/", NOTIFICATION_SCOPES, notification_read,
       params={"id": "notification"}),
    Op("get", "/api/v1/notification-preferences/", NONE, authenticated(200)),
    Op("put", "/api/v1/notification-preferences/", NONE, authenticated(200),
       body={"rules": [{"rule": "missing_attorney_24h", "email": False}]}, audit={"update"}),
    # --- court MDT (SPEC §4) ---------------------------------------------------------------------
    Op("get", "/api/v1/mdt/teams/", NONE, authenticated(200), audit={"list"}),
    Op("get", "/api/v1/mdt/teams/{id}/members/", ROSTER_SCOPES, roster_read, params={"id": "team"}, audit={"list"}),
    Op("post", "/api/v1/mdt/teams/{id}/members/", ROSTER_SCOPES, system_admin_only(201),
       body={"user": "{new_member}"}, params={"id": "team"}, audit={"access_change"}, late=True),
    Op("delete", "/api/v1/mdt/teams/{id}/members/{user_id}/", ROSTER_SCOPES, system_admin_only(204),
       params={"id": "team", "user_id": "roster_user"}, audit={"access_change"}, late=True),
    Op("get", "/api/v1/mdt/meetings/", MDT_SCOPES, authenticated(200), audit={"list"}, listed=("meeting", _member)),
    Op("post", "/api/v1/mdt/meetings/", ROSTER_SCOPES, meeting_schedule,
       body={"team": "{team}", "starts_at": "{in_20_days}", "ends_at": "{in_20_days_2h}"}, audit={"create"}),
    Op("get", "/api/v1/mdt/meetings/{id}/", MDT_SCOPES, meeting_read(200), params={"id": "meeting"},
       audit={"view"}),
    Op("patch", "/api/v1/mdt/meetings/{id}/", MDT_SCOPES, meeting_coordinate(200), body={"location": "Video link"},
       params={"id": "meeting"}, audit={"update"}),
    Op("get", "/api/v1/mdt/meetings/{id}/items/", MDT_SCOPES, meeting_read(200), params={"id": "meeting"},
       audit={"list", "view"}, youth="agenda_youth"),
    Op("post", "/api/v1/mdt/meetings/{id}/items/", MDT_SCOPES, meeting_coordinate(201),
       body={"case": "{extra_case}", "reason": "court_date"}, params={"id": "meeting"}, audit={"create"}),
    Op("post", "/api/v1/mdt/meetings/{id}/items/reorder/", MDT_SCOPES, meeting_coordinate(200),
       body={"items": "{item_ids}"}, params={"id": "meeting"}, audit={"update"}),
    Op("post", "/api/v1/mdt/meetings/{id}/publish/", MDT_SCOPES, meeting_coordinate(200),
       params={"id": "scheduled_meeting"}, audit={"transition"}),
    Op("post", "/api/v1/mdt/meetings/{id}/hold/", MDT_SCOPES, meeting_coordinate(200),
       params={"id": "published_meeting"}, audit={"transition"}),
    Op("post", "/api/v1/mdt/meetings/{id}/finalize-minutes/", MDT_SCOPES, meeting_coordinate(200),
       body={"minutes": "Synthetic minutes."}, params={"id": "held_meeting"}, audit={"transition"}),
    Op("post", "/api/v1/mdt/meetings/{id}/cancel/", MDT_SCOPES, meeting_coordinate(200),
       body={"reason": "Synthetic reason"}, params={"id": "cancel_meeting"}, audit={"transition"}),
    Op("get", "/api/v1/mdt/meetings/{id}/agenda/", MDT_SCOPES, meeting_read(200), params={"id": "meeting"},
       audit={"view"}, youth="agenda_youth"),
    Op("get", "/api/v1/mdt/meetings/{id}/agenda/", ("team_meeting_pdf", "other_team_meeting_pdf"),
       lambda r, s: meeting_read(200)(r, s.removesuffix("_pdf")), query="?format=pdf", params={"id": "meeting"},
       audit={"export"}, youth="agenda_youth"),
    Op("get", "/api/v1/mdt/meetings/{id}/calendar.ics", MDT_SCOPES, meeting_read(200), params={"id": "meeting"},
       audit={"export"}),
    Op("get", "/api/v1/mdt/meetings/{id}/attendance/", MDT_SCOPES, meeting_read(200), params={"id": "meeting"},
       audit={"list"}),
    # SPEC §1: MDT members record attendance and review outcomes (fixed in mdt/services.py).
    Op("post", "/api/v1/mdt/meetings/{id}/attendance/", MDT_SCOPES, meeting_read(201),
       body={"user": "{attendee}", "present": True}, params={"id": "meeting"}, audit={"create", "update"}),
    Op("get", "/api/v1/mdt/meetings/{id}/suggestions/", MDT_SCOPES, meeting_coordinate(200),
       params={"id": "meeting"}, audit={"list"}),
    Op("patch", "/api/v1/mdt/items/{id}/", MDT_SCOPES, meeting_coordinate(200), body={"minutes_allotted": 15},
       params={"id": "item"}, audit={"update"}, youth="item_youth"),
    Op("delete", "/api/v1/mdt/items/{id}/", MDT_SCOPES, meeting_coordinate(204), params={"id": "second_item"},
       audit={"delete"}, youth="second_item_youth"),
    Op("post", "/api/v1/mdt/items/{id}/review/", MDT_SCOPES, meeting_read(200),
       body={"summary": "Synthetic review", "decisions": "Synthetic decision"}, params={"id": "item"},
       audit={"create", "update"}, youth="item_youth"),
    Op("get", "/api/v1/action-items/", MDT_SCOPES, authenticated(200), audit={"list"}, listed=("action", _member)),
    Op("post", "/api/v1/action-items/", MDT_SCOPES, action_item_create,
       body={"case": "{agenda_case}", "meeting": "{meeting}", "description": "Synthetic task",
             "agency": "PROBATION", "due_at": LATER}, audit={"create"}, youth="agenda_youth"),
    Op("get", "/api/v1/action-items/{id}/", MDT_SCOPES, meeting_read(200), params={"id": "action"},
       audit={"view"}, youth="item_youth"),
    Op("patch", "/api/v1/action-items/{id}/", MDT_SCOPES, action_item_update, body={"status": "done"},
       params={"id": "action"}, audit={"transition", "update"}, youth="item_youth"),
    Op("get", "/api/v1/mdt/calendar-feed/", NONE, authenticated(200), audit={"view"}),
    Op("post", "/api/v1/mdt/calendar-feed/", NONE, feed_rotate, audit={"create", "update"}),
    Op("delete", "/api/v1/mdt/calendar-feed/", NONE, authenticated(204), audit={"delete"}),
    # The feed's secret URL is its credential (SPEC §4); the read is audited as its owner's.
    Op("get", "/api/v1/mdt/feeds/{token}.ics", ("valid_token", "unknown_token"),
       lambda r, s: 200 if s == "valid_token" else 404, params={"token": "token"}, audit={"export"},
       audit_actor="feed_owner"),
    # Last: ends the caller's token.
    Op("post", "/api/v1/auth/logout/", NONE, authenticated(204), audit={"logout"}, late=True),
]


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    role: str
    scope: str
    status: int
    op_index: int

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{OPERATIONS[self.op_index].query} {self.role} {self.scope}"


def _rows() -> list[Row]:
    rows = []
    for index, op in enumerate(OPERATIONS):
        for scope in op.scopes:
            for role in ROLES:
                status = op.rule(role, scope)
                if status is not None:  # the scope does not exist for that role
                    rows.append(Row(op.method.upper(), op.path, role.key, scope, status, index))
    return rows


ROWS: list[Row] = _rows()
MATRIX_OPERATIONS = {op.key for op in OPERATIONS}


def matrix_size() -> str:
    return (
        f"authorization matrix: {len(ROWS)} rows over {len(MATRIX_OPERATIONS)} operations and {len(ROLES)} roles "
        f"({len({r.scope for r in ROWS})} scopes)"
    )


def schema_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation of the OpenAPI schema, generated in-process."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
