"""The project-wide authorization matrix (SPEC §1, §6, §8): the roles, the scopes and the
operations it drives, and its expected outcomes, read from a reviewed data file.

The expected outcome of every (operation, role, scope) is a row of
tests/security/authorization_matrix.csv: the status SPEC says the request answers, and for a
list, whether the scope's object is in it. Nothing here computes an expectation: this module
only says how to drive a row (the method and path exactly as in the OpenAPI schema, the body,
the world objects its path names, the audit events a success leaves), and the file says what
must come back. The file's header says how to review it.

Scopes are objects of tests/security/world.py named relative to the caller's agency X.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
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
    # An MDT member who sits on no team (yet): SPEC §1 gives the role nothing beyond its teams.
    Role("DCFS.mdt_member", "dcfs_mdt_member", "DCFS", "mdt_member"),
    Role("DCFS.agency_admin", "dcfs_agency_admin", "DCFS", "agency_admin"),
    Role("DCFS.auditor", "dcfs_auditor", "DCFS", "auditor"),
    Role("DCFS.analyst", "dcfs_analyst", "DCFS", "analyst"),
    Role("system_admin", "root", None, "system_admin"),
]
ROLES_BY_KEY = {r.key: r for r in ROLES}

# --- scopes --------------------------------------------------------------------------------------

#: Cases, relative to the caller's agency X (see world.py): K[X], which X leads and X's case
#: worker is on (`own`); K2[X], which X leads and X's case worker is not on (`agency_case`); the
#: case shared with X, X's case worker on the team (`shared`); the one whose consent for X expired,
#: its worker still on the team (`expired_share`); the one never shared with X (`other_agency`).
CASE_SCOPES = ("own", "agency_case", "shared", "expired_share", "other_agency")
#: Scopes that name a case part with a particular body or object; the case is the named one.
CASE_OF = {
    **{s: s for s in CASE_SCOPES},
    "clinical_write": "own",  # a clinical note, written on the caller's own case
    "own_with_address": "own",  # a placement address / protected alert detail, own case
    "shared_with_address": "shared",
    # The case shared with X, naming a member (or a would-be member) of the lead agency's staff:
    # a participating supervisor assigns only its own agency's people (SPEC §1).
    "shared_lead_member": "shared",
    # K2[prev X]: shared with X under a consent that runs on, X's case worker not on the team. Closing
    # ends court_mdt shares only (SPEC §2), so X's supervisor still sees the closed case.
    "consent_share": "consent_share",
}
#: Notes on the DCFS-led case written by the DMH clinician (fixed objects, not relative).
FIXED_NOTE_SCOPES = ("clinical_note", "agency_note")
#: The mental-health service on the DCFS-led case, recorded by the DMH clinician (SPEC §2: shown
#: only where clinical notes are).
FIXED_SERVICE_SCOPES = ("clinical_service",)

#: Pending referrals, relative to X: received by X and referred by X's worker (`pending`),
#: referred by X's worker to the next agency (`sent`), referred to X by the previous agency's
#: worker (`incoming`), between two other agencies (`other_pending`).
PENDING_SCOPES = ("pending", "sent", "incoming", "other_pending")
#: Merge sources: the youth of a pending referral of X / of an incoming referral / of cases X
#: does not see; merged into the youth of X's own case.
MERGE_SCOPES = ("pending", "incoming", "expired_share", "other_agency")

MDT_SCOPES = ("team_meeting", "other_team_meeting")  # a STAR meeting / a DREAM meeting
ROSTER_SCOPES = ("team", "other_team")  # the STAR / DREAM roster
USER_SCOPES = ("own_agency_user", "other_agency_user", "agency_auditor")
NEW_USER_SCOPES = ("own_agency", "other_agency", "auditor_role")
AGENCY_SCOPES = ("own_agency", "other_agency")  # the caller's agency / the next one in the ring
NOTIFICATION_SCOPES = ("own_notification", "other_notification")
#: Pending share requests, relative to X: awaiting X (on a case X leads), raised by X (on a case
#: the previous agency leads), between two other agencies.
SHARE_SCOPES = ("awaiting", "requested", "other_request")
NONE = ("-",)


# --- operations ----------------------------------------------------------------------------------

LATER = "{in_20_days}"


@dataclass
class Op:
    """How to drive one operation; what it must answer is in the data file."""

    method: str
    path: str  # exactly as in the OpenAPI schema
    #: the scopes it is driven with (the file's rows name these)
    scopes: tuple[str, ...]
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
    #: for a list: the world name of the scope's object; the file's `listed` column says whether
    #: the caller must find it in the answer (SPEC §1: visibility applies to every list too)
    listed: str | None = None

    @property
    def signed_in(self) -> bool:
        """False for the operations that take no credentials (the caller is nobody to them)."""
        return self.audit_actor is None and self.path != "/api/v1/auth/password-reset/"

    @property
    def key(self) -> tuple[str, str]:
        return (self.method.upper(), self.path)

    @property
    def target(self) -> tuple[str, str]:
        """How the data file names it: (path with its query, METHOD)."""
        return (self.path + self.query, self.method.upper())


CASE = {"id": "case"}
NEW_REFERRAL = {
    "youth": {"first_name": "Matrixnew", "last_name": "Referralnew", "date_of_birth": "2011-05-05"},
    "received_at": "{now}",
    "source": "school",
    "indicators": [],
}

OPERATIONS: list[Op] = [
    # --- authentication and the caller (SPEC §6) ---------------------------------------------------
    Op("post", "/api/v1/auth/token/", ("own_credentials", "wrong_password"),
       body={"username": "{login_username}", "password": "{login_password}"},
       audit={"login", "login_failed"}, audit_actor="login_user"),
    Op("post", "/api/v1/auth/password-reset/", ("-",), body={"email": "{login_email}"},
       audit=None),  # an event is written for a known address only (actor: none)
    Op("get", "/api/v1/me/", NONE),
    Op("get", "/api/v1/agencies/", NONE),
    Op("get", "/api/v1/agencies/{code}/access-report/", AGENCY_SCOPES, params={"code": "agency_code"},
       audit={"export"}),
    Op("post", "/api/v1/me/mfa/totp/", NONE, audit={"mfa_change"}),
    Op("post", "/api/v1/me/mfa/totp/confirm/", NONE, body={"otp": "{otp}"}, prep="mfa_begun",
       audit={"mfa_change"}, late=True),
    # --- users (SPEC §1: admins) -----------------------------------------------------------------
    Op("get", "/api/v1/users/", USER_SCOPES,
       listed="user"),
    Op("post", "/api/v1/users/", NEW_USER_SCOPES,
       body={"username": "matrix_new_user", "email": "new@example.invalid", "agency": "{new_user_agency}",
             "role": "{new_user_role}"}, audit={"create"}),
    Op("get", "/api/v1/users/{id}/", USER_SCOPES, params={"id": "user"}),
    Op("patch", "/api/v1/users/{id}/", USER_SCOPES,
       body={"first_name": "Renamed"}, params={"id": "user"}, audit={"update"}),
    Op("post", "/api/v1/users/{id}/send-password-link/", USER_SCOPES,
       params={"id": "user"}, audit={"update"}),  # before deactivate: an inactive user gets no link (409)
    Op("post", "/api/v1/users/{id}/deactivate/", USER_SCOPES,
       params={"id": "user"}, audit={"access_change"}),
    Op("post", "/api/v1/users/{id}/reset-mfa/", USER_SCOPES,
       params={"id": "user"}, audit={"mfa_change"}),
    # --- audit (SPEC §1: auditors) ---------------------------------------------------------------
    Op("get", "/api/v1/audit-events/", NONE, audit={"list"}),
    Op("post", "/api/v1/audit-events/verify/", NONE, audit={"verify"}),
    Op("get", "/api/v1/audit-events/verify/{id}/", NONE, params={"id": "verify_job"}, prep="verify_job"),
    # --- reports (SPEC §9: supervisors, analysts, system admins; every answer an export) -----------
    Op("get", "/api/v1/reports/", NONE),
    Op("get", "/api/v1/reports/caseload/", NONE, audit={"export"}),  # case workers and supervisors
    # SPEC §9: the lead agency's supervisors see who read their case's records
    Op("get", "/api/v1/cases/{id}/readers/", CASE_SCOPES, params=CASE, audit={"view"}, youth="youth"),
    Op("get", "/api/v1/reports/{name}/", NONE, params={"name": "report_name"}, audit={"export"}),
    # --- youth (SPEC §2) -------------------------------------------------------------------------
    Op("get", "/api/v1/youth/", CASE_SCOPES, audit={"list"}, listed="youth"),
    Op("post", "/api/v1/youth/", NONE,
       body={"first_name": "Matrixnew", "last_name": "Youthnew", "date_of_birth": "2011-04-04"}, audit={"create"}),
    # SPEC §2, §5: every duplicate search is audited as `search` (a keyed hash of its values).
    Op("get", "/api/v1/youth/matches/", NONE, query="?first_name=Matrix&last_name=Seeded",
       audit={"search"}),
    Op("get", "/api/v1/youth/{id}/", CASE_SCOPES, params={"id": "youth"},
       audit={"view"}, youth="youth"),
    # SPEC §1: the youth of an open case is edited by the lead agency's case team and supervisors
    # (a participating agency sees it: 403).
    Op("patch", "/api/v1/youth/{id}/", CASE_SCOPES,
       body={"pronouns": "they/them"}, params={"id": "youth"}, audit={"update"}, youth="youth"),
    # SPEC §2: merging two youth records is for a supervisor whose agency has both in its
    # charge; logged and reversible.
    Op("post", "/api/v1/youth/{id}/merge/", MERGE_SCOPES,
       body={"into": "{own_youth}"}, params={"id": "merge_youth"}, audit={"update"}, youth="merge_youth"),
    Op("post", "/api/v1/youth/{id}/unmerge/", MERGE_SCOPES,
       params={"id": "merge_youth"}, prep="merged", audit={"update"}, youth="merge_youth"),
    # --- referrals (SPEC §2) ---------------------------------------------------------------------
    # Reference data like the agencies: every signed-in user reads the indicator codes.
    Op("get", "/api/v1/indicator-codes/", NONE),
    Op("get", "/api/v1/referrals/", CASE_SCOPES + PENDING_SCOPES, audit={"list"},
       listed="referral"),
    Op("post", "/api/v1/referrals/", NONE, body=NEW_REFERRAL, audit={"create"}),
    Op("get", "/api/v1/referrals/{id}/", CASE_SCOPES + PENDING_SCOPES,
       params={"id": "referral"}, audit={"view"}, youth="referral_youth"),
    Op("patch", "/api/v1/referrals/{id}/", CASE_SCOPES + PENDING_SCOPES, body={"narrative": "Synthetic update."},
       params={"id": "referral"}, audit={"update"}, youth="referral_youth"),
    Op("post", "/api/v1/referrals/{id}/screen/", ("own", *PENDING_SCOPES),
       body={"level": "possible_concern", "instrument": "CSE-IT"}, params={"id": "screen_referral"},
       audit={"transition"}, youth="screen_referral_youth"),
    Op("post", "/api/v1/referrals/{id}/accept/", ("own", *PENDING_SCOPES),
       params={"id": "accept_referral"}, prep="screened", audit={"transition"}, youth="accept_referral_youth"),
    Op("post", "/api/v1/referrals/{id}/decline/", ("own", *PENDING_SCOPES),
       body={"reason": "Synthetic reason"}, params={"id": "decline_referral"}, audit={"transition"},
       youth="decline_referral_youth"),
    Op("post", "/api/v1/referrals/{id}/mark-duplicate/", ("own", *PENDING_SCOPES), body={}, params={"id": "duplicate_referral"},
       audit={"transition"}, youth="duplicate_referral_youth"),
    # --- cases (SPEC §2) -------------------------------------------------------------------------
    Op("get", "/api/v1/cases/", CASE_SCOPES, audit={"list"}, listed="case"),
    Op("get", "/api/v1/cases/{id}/", CASE_SCOPES, params=CASE, audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/cases/{id}/", CASE_SCOPES, body={"csec_status": "identified"},
       params=CASE, audit={"update"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/team/", CASE_SCOPES, params=CASE, audit={"list"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/agencies/", CASE_SCOPES, params=CASE, audit={"list"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/notes/", CASE_SCOPES + FIXED_NOTE_SCOPES, params=CASE,
       audit={"list"}, youth="youth", listed="note"),
    Op("post", "/api/v1/cases/{id}/notes/", (*CASE_SCOPES, "clinical_write"),
       body={"body": "Synthetic note.", "visibility": "{note_visibility}"}, params=CASE, audit={"create"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/notes/{note_id}/", CASE_SCOPES + FIXED_NOTE_SCOPES,
       params={"id": "case", "note_id": "note"}, audit={"view"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/missing-episodes/", CASE_SCOPES, params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/missing-episodes/", CASE_SCOPES,
       body={"missing_since": "{hours_ago_3}", "learned_at": "{hours_ago_2}"}, params=CASE, audit={"create"},
       youth="youth"),
    Op("get", "/api/v1/missing-episodes/{id}/", CASE_SCOPES, params={"id": "episode"},
       audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/missing-episodes/{id}/", CASE_SCOPES, body={"ncic_number": "M000001"},
       params={"id": "episode"}, audit={"update"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/placements/", CASE_SCOPES, params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/placements/", (*CASE_SCOPES, "own_with_address", "shared_with_address"),
       body={"placement_type": "shelter", "start_date": "2026-02-01", "address": "{address}"}, params=CASE,
       audit={"create"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/services/", CASE_SCOPES, params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/services/", CASE_SCOPES,
       body={"provider": "Synthetic clinic", "referred_at": "{hours_ago_2}"}, params=CASE, audit={"create"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/hearings/", CASE_SCOPES, params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/hearings/", CASE_SCOPES,
       body={"starts_at": LATER, "hearing_type": "review"}, params=CASE, audit={"create"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/alerts/", CASE_SCOPES, params=CASE, audit={"list"},
       youth="youth"),
    Op("post", "/api/v1/cases/{id}/alerts/", (*CASE_SCOPES, "own_with_address", "shared_with_address"),
       body={"kind": "known_exploiter", "summary": "Synthetic alert", "protected_detail": "{address}"},
       params=CASE, audit={"create"}, youth="youth"),
    # Case parts by their own id (SPEC §6 "case parts"): end a placement, move a service on,
    # reschedule / cancel / hold a hearing, resolve an alert.
    Op("get", "/api/v1/placements/{id}/", CASE_SCOPES, params={"id": "placement"}, audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/placements/{id}/", CASE_SCOPES,
       body={"end_date": "2026-02-01", "end_reason": "Synthetic reason"}, params={"id": "placement"},
       audit={"update"}, youth="youth"),
    Op("get", "/api/v1/services/{id}/", CASE_SCOPES + FIXED_SERVICE_SCOPES, params={"id": "service"},
       audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/services/{id}/", CASE_SCOPES, body={"status": "accepted"}, params={"id": "service"},
       audit={"transition", "update"}, youth="youth"),
    Op("get", "/api/v1/hearings/{id}/", CASE_SCOPES, params={"id": "hearing"}, audit={"view"}, youth="youth"),
    Op("patch", "/api/v1/hearings/{id}/", CASE_SCOPES, body={"starts_at": LATER, "reason": "Synthetic reason"},
       params={"id": "hearing"}, audit={"transition", "update"}, youth="youth"),
    Op("get", "/api/v1/alerts/{id}/", CASE_SCOPES, params={"id": "alert"}, audit={"view"}, youth="youth"),
    Op("post", "/api/v1/alerts/{id}/resolve/", CASE_SCOPES, body={"reason": "Synthetic reason"},
       params={"id": "alert"}, audit={"transition"}, youth="youth"),
    Op("get", "/api/v1/cases/{id}/timeline/", CASE_SCOPES, params=CASE, audit={"view"},
       youth="youth"),
    Op("get", "/api/v1/cases/{id}/history/", CASE_SCOPES, params=CASE, audit={"view"},
       youth="youth"),
    # Access to a case (SPEC §1): who is on it, which agencies share it.
    Op("post", "/api/v1/cases/{id}/team/", (*CASE_SCOPES, "shared_lead_member"),
       body={"user": "{team_user}", "role": "supervisor"}, params=CASE, audit={"access_change"}, youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/agencies/", CASE_SCOPES,
       body={"agency": "{grantable}", "legal_basis": "mdt_18961_7"}, params=CASE, audit={"access_change"},
       youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/agencies/{agency_code}/renew/", CASE_SCOPES,
       body={"good_cause": "Synthetic good cause", "expires_at": LATER},
       params={"id": "case", "agency_code": "shared_agency"}, audit={"access_change"}, youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/agencies/{agency_code}/revoke/", CASE_SCOPES,
       params={"id": "case", "agency_code": "shared_agency"}, audit={"access_change"}, youth="youth", late=True),
    # SPEC §1 "Sharing has one door": share requests, decided by the lead agency's supervisors.
    Op("get", "/api/v1/share-requests/", SHARE_SCOPES, audit={"list"},
       listed="share_request"),
    Op("post", "/api/v1/share-requests/{id}/approve/", SHARE_SCOPES,
       body={"legal_basis": "mdt_18961_7"}, params={"id": "share_request"}, audit={"access_change"},
       youth="share_request_youth"),
    Op("post", "/api/v1/share-requests/{id}/decline/", SHARE_SCOPES,
       body={"reason": "Synthetic reason"}, params={"id": "share_request2"}, audit={"access_change"},
       youth="share_request2_youth"),
    # SPEC §2: a case closes once no missing episode is open ("returned" records the return);
    # reopening needs a closed case ("closed" closes it through the service).
    Op("post", "/api/v1/cases/{id}/close/", CASE_SCOPES, prep="returned",
       body={"reason": "Synthetic reason"}, params=CASE, audit={"transition"}, youth="youth", late=True),
    Op("post", "/api/v1/cases/{id}/reopen/", (*CASE_SCOPES, "consent_share"), prep="closed",
       body={"reason": "Synthetic reason"}, params=CASE, audit={"transition"}, youth="youth", late=True),
    Op("delete", "/api/v1/cases/{id}/team/{member_id}/", (*CASE_SCOPES, "shared_lead_member"),
       params={"id": "case", "member_id": "member"}, audit={"access_change"}, youth="youth", late=True),
    # --- deadlines and notifications (SPEC §3) ---------------------------------------------------
    # App decision (notifications): the list is "those the user may see" — none for the roles
    # without case data, still a 200.
    Op("get", "/api/v1/deadlines/", CASE_SCOPES, audit={"list"}, listed="deadline"),
    Op("post", "/api/v1/deadlines/{id}/waive/", CASE_SCOPES,
       body={"reason": "Synthetic reason"}, params={"id": "deadline"}, audit={"transition"}, youth="youth"),
    # SPEC §5: the inbox is audited like every other read (one `list` event per page); marking
    # read and the preferences are the caller's own, not case data: no read event.
    Op("get", "/api/v1/notifications/", NOTIFICATION_SCOPES, audit={"list"},
       listed="notification"),
    Op("get", "/api/v1/notifications/unread-count/", NONE),
    Op("post", "/api/v1/notifications/{id}/read/", NOTIFICATION_SCOPES,
       params={"id": "notification"}),
    # Failed emails (SPEC §3): supervisors (their agency's escalations) and system admins.
    Op("get", "/api/v1/notification-failures/", NONE),
    Op("get", "/api/v1/notification-preferences/", NONE),
    Op("put", "/api/v1/notification-preferences/", NONE,
       body={"rules": [{"rule": "missing_attorney_24h", "email": False}]}, audit={"update"}),
    # --- court MDT (SPEC §4) ---------------------------------------------------------------------
    Op("get", "/api/v1/mdt/teams/", NONE, audit={"list"}),
    Op("get", "/api/v1/mdt/teams/{id}/members/", ROSTER_SCOPES, params={"id": "team"}, audit={"list"}),
    Op("post", "/api/v1/mdt/teams/{id}/members/", ROSTER_SCOPES,
       body={"user": "{new_member}"}, params={"id": "team"}, audit={"access_change"}, late=True),
    Op("delete", "/api/v1/mdt/teams/{id}/members/{user_id}/", ROSTER_SCOPES,
       params={"id": "team", "user_id": "roster_user"}, audit={"access_change"}, late=True),
    # SPEC §4: coordinators find the cases of their court by number; the agenda view only.
    Op("get", "/api/v1/mdt/teams/{id}/eligible-cases/", ROSTER_SCOPES, query="?number=2026",
       params={"id": "team"}, audit={"list"}),
    Op("get", "/api/v1/mdt/meetings/", MDT_SCOPES, audit={"list"}, listed="meeting"),
    Op("post", "/api/v1/mdt/meetings/", ROSTER_SCOPES,
       body={"team": "{team}", "starts_at": "{in_20_days}", "ends_at": "{in_20_days_2h}"}, audit={"create"}),
    Op("get", "/api/v1/mdt/meetings/{id}/", MDT_SCOPES, params={"id": "meeting"},
       audit={"view"}),
    Op("patch", "/api/v1/mdt/meetings/{id}/", MDT_SCOPES, body={"location": "Video link"},
       params={"id": "meeting"}, audit={"update"}),
    Op("get", "/api/v1/mdt/meetings/{id}/items/", MDT_SCOPES, params={"id": "meeting"},
       audit={"list", "view"}, youth="agenda_youth"),
    Op("post", "/api/v1/mdt/meetings/{id}/items/", MDT_SCOPES,
       body={"case": "{extra_case}", "reason": "court_date"}, params={"id": "meeting"}, audit={"create"}),
    Op("post", "/api/v1/mdt/meetings/{id}/items/reorder/", MDT_SCOPES,
       body={"items": "{item_ids}"}, params={"id": "meeting"}, audit={"update"}),
    Op("post", "/api/v1/mdt/meetings/{id}/publish/", MDT_SCOPES,
       params={"id": "scheduled_meeting"}, audit={"transition"}),
    Op("post", "/api/v1/mdt/meetings/{id}/hold/", MDT_SCOPES,
       params={"id": "published_meeting"}, audit={"transition"}),
    Op("post", "/api/v1/mdt/meetings/{id}/finalize-minutes/", MDT_SCOPES,
       body={"minutes": "Synthetic minutes."}, params={"id": "held_meeting"}, audit={"transition"}),
    Op("post", "/api/v1/mdt/meetings/{id}/cancel/", MDT_SCOPES,
       body={"reason": "Synthetic reason"}, params={"id": "cancel_meeting"}, audit={"transition"}),
    Op("get", "/api/v1/mdt/meetings/{id}/agenda/", MDT_SCOPES, params={"id": "meeting"},
       audit={"view"}, youth="agenda_youth"),
    Op("get", "/api/v1/mdt/meetings/{id}/agenda/", ("team_meeting_pdf", "other_team_meeting_pdf"), query="?format=pdf", params={"id": "meeting"},
       audit={"export"}, youth="agenda_youth"),
    Op("get", "/api/v1/mdt/meetings/{id}/calendar.ics", MDT_SCOPES, params={"id": "meeting"},
       audit={"export"}),
    Op("get", "/api/v1/mdt/meetings/{id}/attendance/", MDT_SCOPES, params={"id": "meeting"},
       audit={"list"}),
    # SPEC §1: MDT members record attendance and review outcomes (fixed in mdt/services.py).
    Op("post", "/api/v1/mdt/meetings/{id}/attendance/", MDT_SCOPES,
       body={"user": "{attendee}", "present": True}, params={"id": "meeting"}, audit={"create", "update"}),
    Op("get", "/api/v1/mdt/meetings/{id}/suggestions/", MDT_SCOPES,
       params={"id": "meeting"}, audit={"list"}),
    Op("patch", "/api/v1/mdt/items/{id}/", MDT_SCOPES, body={"minutes_allotted": 15},
       params={"id": "item"}, audit={"update"}, youth="item_youth"),
    Op("delete", "/api/v1/mdt/items/{id}/", MDT_SCOPES, params={"id": "second_item"},
       audit={"delete"}, youth="second_item_youth"),
    Op("post", "/api/v1/mdt/items/{id}/review/", MDT_SCOPES,
       body={"summary": "Synthetic review", "decisions": "Synthetic decision"}, params={"id": "item"},
       audit={"create", "update"}, youth="item_youth"),
    Op("get", "/api/v1/action-items/", MDT_SCOPES, audit={"list"}, listed="action"),
    Op("post", "/api/v1/action-items/", MDT_SCOPES,
       body={"case": "{agenda_case}", "meeting": "{meeting}", "description": "Synthetic task",
             "agency": "PROBATION", "due_at": LATER}, audit={"create"}, youth="agenda_youth"),
    Op("get", "/api/v1/action-items/{id}/", MDT_SCOPES, params={"id": "action"},
       audit={"view"}, youth="item_youth"),
    Op("patch", "/api/v1/action-items/{id}/", MDT_SCOPES, body={"status": "done"},
       params={"id": "action"}, audit={"transition", "update"}, youth="item_youth"),
    Op("get", "/api/v1/mdt/calendar-feed/", NONE, audit={"view"}),
    Op("post", "/api/v1/mdt/calendar-feed/", NONE, audit={"create", "update"}),
    Op("delete", "/api/v1/mdt/calendar-feed/", NONE, audit={"delete"}),
    # The feed's secret URL is its credential (SPEC §4); the read is audited as its owner's.
    Op("get", "/api/v1/mdt/feeds/{token}.ics", ("valid_token", "unknown_token"), params={"token": "token"}, audit={"export"},
       audit_actor="feed_owner"),
    # Last: ends the caller's token.
    Op("post", "/api/v1/auth/logout/", NONE, audit={"logout"}, late=True),
]


# --- the table: the reviewed data file -----------------------------------------------------------

MATRIX_FILE = Path(__file__).with_name("authorization_matrix.csv")
COLUMNS = ["path", "method", "role", "scope", "status", "listed"]
LISTED = {"yes": True, "no": False, "": None}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    role: str
    scope: str
    status: int
    op_index: int
    #: for a list answering 200: whether the scope's object is in it
    listed: bool | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{OPERATIONS[self.op_index].query} {self.role} {self.scope}"


def read_matrix_file(path: Path = MATRIX_FILE) -> list[dict[str, str]]:
    """The file's records, in file order, without its `#` header comment."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        assert reader.fieldnames == COLUMNS, f"{path.name}: columns {reader.fieldnames}, expected {COLUMNS}"
        return list(reader)


def load_rows(records: list[dict[str, str]]) -> tuple[list[Row], list[str]]:
    """The rows the file's records stand for, in the order the operations are listed above (then
    scope, then role: the order test_audit_completeness picks its rows in), and the problems of
    the records that name no operation, role or scope this module drives, or say nothing valid."""
    by_target = {op.target: index for index, op in enumerate(OPERATIONS)}
    role_order = {r.key: i for i, r in enumerate(ROLES)}
    rows: list[tuple[tuple[int, int, int], Row]] = []
    problems: list[str] = []
    for number, rec in enumerate(records, start=1):
        where = f"record {number} ({rec['method']} {rec['path']} {rec['role']} {rec['scope']})"
        index = by_target.get((rec["path"], rec["method"]))
        if index is None:
            problems.append(f"{where}: no such operation in OPERATIONS")
            continue
        op = OPERATIONS[index]
        if rec["role"] not in role_order:
            problems.append(f"{where}: no such role")
            continue
        if rec["scope"] not in op.scopes:
            problems.append(f"{where}: not a scope of this operation {op.scopes}")
            continue
        if not rec["status"].isdigit() or rec["listed"] not in LISTED:
            problems.append(f"{where}: status {rec['status']!r} / listed {rec['listed']!r}")
            continue
        status, listed = int(rec["status"]), LISTED[rec["listed"]]
        if (listed is None) != (op.listed is None or status != 200):
            problems.append(f"{where}: `listed` is for a list answering 200, and only for it")
            continue
        row = Row(rec["method"], op.path, rec["role"], rec["scope"], status, index, listed)
        rows.append(((index, op.scopes.index(row.scope), role_order[row.role]), row))
    rows.sort(key=lambda pair: pair[0])
    return [row for _, row in rows], problems


RECORDS = read_matrix_file()
ROWS, ROW_PROBLEMS = load_rows(RECORDS)
#: (METHOD, path) of every operation the file has a row for
MATRIX_OPERATIONS = {(rec["method"], rec["path"].split("?")[0]) for rec in RECORDS}
#: (METHOD, path) of every operation this module knows how to drive
DRIVEN_OPERATIONS = {op.key for op in OPERATIONS}


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
