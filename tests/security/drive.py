"""Running one row of the matrix against the world: the names a row's path and body use, the
state step an operation needs, the request, and the checks every row shares (the denied body,
the audit events SPEC §5 requires)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db.models import Max
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from cases.models import CaseAgency, Referral, Youth
from cases.services import referrals as referral_services
from cases.services import youth as youth_services
from mdt.models import AgendaItem
from tests.factories import TEST_PASSWORD

from .matrix import CASE_OF, FIXED_NOTE_SCOPES, FIXED_SERVICE_SCOPES, OPERATIONS, ROLES_BY_KEY, Op, Role, Row
from .world import RING, World, membership, notification_of, ring

DENIED_BODY_KEYS = {"detail", "code"}
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
#: The referral decisions; each has a pending referral of its own per agency (world.py).
DECISIONS = ("screen", "accept", "decline", "duplicate")


# --- names ---------------------------------------------------------------------------------------


def _case_for(world: World, home: str, relation: str) -> Any:
    return {
        "own": world.case[home],
        "agency_case": world.case2[home],
        "shared": world.case[ring(home, -1)],
        "expired_share": world.case[ring(home, -2)],
        "other_agency": world.case[ring(home, 1)],
        "consent_share": world.case2[ring(home, -1)],
    }[relation]


def _member_for(world: World, home: str, scope: str, relation: str, case: Any) -> int | None:
    low = home.lower()
    if scope == "shared_lead_member":  # the lead agency's own case worker on its case
        return membership(case, f"{case.lead_agency.code.lower()}_case_worker", world).pk
    if relation == "consent_share":  # X's worker is not on it; no row removes anyone from it
        return None
    username = {
        "own": f"{low}_case_worker",
        "agency_case": f"{low}_helper",
        "shared": f"{low}_case_worker",
        "expired_share": f"{low}_case_worker",
        "other_agency": f"{ring(home, 1).lower()}_case_worker",
    }[relation]
    return membership(case, username, world).pk


def _static_names(world: World, home: str, scope: str) -> dict[str, Any]:
    """What a scope names for a user of agency `home` (cached: the world's ids do not move)."""
    key = (home, scope)
    if key in world.names_cache:
        return world.names_cache[key]
    names: dict[str, Any] = {}
    own_case = world.case[home]
    names["own_youth"] = own_case.youth_id
    relation = None
    if scope in FIXED_NOTE_SCOPES or scope in FIXED_SERVICE_SCOPES:
        relation = "fixed"
        case = world.case["DCFS"]
    elif scope in CASE_OF:
        relation = CASE_OF[scope]
        case = _case_for(world, home, relation)
    if relation is not None:
        referral = world.case_referral[case.pk]
        note = {"clinical_note": world.clinical_note, "agency_note": world.agency_note}.get(scope)
        names.update(
            case=case.pk,
            youth=case.youth_id,
            referral=referral.pk,
            referral_youth=referral.youth_id,
            note=(note or world.team_note[case.pk]).pk,
            episode=world.episode[case.pk].pk,
            placement=world.placement[case.pk].pk,
            service=(world.clinical_service if scope in FIXED_SERVICE_SCOPES else world.service[case.pk]).pk,
            hearing=world.hearing[case.pk].pk,
            alert=world.alert[case.pk].pk,
            deadline=world.deadline[case.pk].pk,
            shared_agency=ring(case.lead_agency.code),
        )
        if relation != "fixed":
            names["member"] = _member_for(world, home, scope, relation, case)
        # Who POST …/team/ adds: the caller, or (shared_lead_member) a lead-agency worker not on it.
        names["team_user_of_lead"] = (
            world.user(f"{case.lead_agency.code.lower()}_helper").pk if scope == "shared_lead_member" else None
        )
        for kind in DECISIONS:
            names[f"{kind}_referral"], names[f"{kind}_referral_youth"] = referral.pk, referral.youth_id
    pending = {
        "pending": lambda kind: world.pending[(home, kind)],
        "sent": lambda kind: world.sent[home],
        "incoming": lambda kind: world.sent[ring(home, -1)],
        "other_pending": lambda kind: world.pending[(ring(home, 1), kind)],
    }.get(scope)
    if pending is not None:
        names.update(referral=pending("screen").pk, referral_youth=pending("screen").youth_id)
        for kind in DECISIONS:
            names[f"{kind}_referral"], names[f"{kind}_referral_youth"] = pending(kind).pk, pending(kind).youth_id
    merge_source = {
        "pending": lambda: world.pending[(home, "merge")].youth_id,
        "incoming": lambda: world.sent[ring(home, -1)].youth_id,
        "expired_share": lambda: world.case[ring(home, -2)].youth_id,
        "other_agency": lambda: world.case[ring(home, 1)].youth_id,
    }.get(scope)
    if merge_source is not None:
        names["merge_youth"] = merge_source()
    # Share requests on K3[lead]: by the next agency (to approve) and the one after (to decline).
    if scope in {"awaiting", "requested", "other_request"}:
        lead, lead2 = {
            "awaiting": (home, home),
            "requested": (ring(home, -1), ring(home, -2)),
            "other_request": (ring(home, 1), ring(home, 1)),
        }[scope]
        first, second = world.share_request[lead], world.share_request2[lead2]
        names.update(share_request=first.pk, share_request_youth=first.case.youth_id)
        names.update(share_request2=second.pk, share_request2_youth=second.case.youth_id)
    team = "DREAM" if scope.startswith("other_team") else "STAR"
    meetings = world.meetings
    star = team == "STAR"
    names.update(
        team=world.teams[team].pk,
        meeting=meetings[team].pk,
        scheduled_meeting=meetings["STAR_scheduled" if star else team].pk,
        published_meeting=meetings["STAR_published" if star else team].pk,
        held_meeting=meetings["STAR_held" if star else team].pk,
        cancel_meeting=meetings["STAR_cancel" if star else team].pk,
        item=world.items[team].pk,
        item_youth=world.items[team].case.youth_id,
        second_item=world.items["STAR_second" if star else team].pk,
        second_item_youth=world.items["STAR_second" if star else team].case.youth_id,
        action=world.actions[team].pk,
        agenda_case=world.items[team].case_id,
        agenda_youth=world.items[team].case.youth_id,
        extra_case=world.case["SHERIFF"].pk,
        attendee=world.user("star_member").pk,
        roster_user=world.user("star_member" if star else "dream_coordinator").pk,
        new_member=world.user("dcfs_case_worker").pk,
    )
    if scope in {"own_agency_user", "other_agency_user", "agency_auditor"}:
        agency = home if scope != "other_agency_user" else ring(home, 1)
        kind = "auditor" if scope == "agency_auditor" else "clerk"
        names["user"] = world.user(f"{agency.lower()}_{kind}").pk
    names["new_user_agency"] = ring(home, 1) if scope == "other_agency" else home
    names["agency_code"] = ring(home, 1) if scope == "other_agency" else home
    names["new_user_role"] = "auditor" if scope == "auditor_role" else "case_worker"
    names["report_name"] = "csec-identification"
    names["note_visibility"] = "clinical" if scope == "clinical_write" else "team"
    names["address"] = "Synthetic address 1" if scope.endswith("_with_address") else ""
    names["token"] = world.feed_token if scope == "valid_token" else "0" * 43
    names["feed_owner"] = world.user("dream_coordinator").pk
    world.names_cache[key] = names
    return names


def names_for(world: World, role: Role, scope: str) -> dict[str, Any]:
    names = dict(_static_names(world, role.home, scope))
    user = None if role.anonymous else world.user(role.username)
    now = world.now
    names.update(
        me=user.pk if user else None,
        team_user=names.get("team_user_of_lead") or (user.pk if user else None),
        now=now.isoformat(),
        hours_ago_2=(now - dt.timedelta(hours=2)).isoformat(),
        hours_ago_3=(now - dt.timedelta(hours=3)).isoformat(),
        in_20_days=(now + dt.timedelta(days=20)).isoformat(),
        in_20_days_2h=(now + dt.timedelta(days=20, hours=2)).isoformat(),
        login_username=user.username if user else "matrix_nobody",
        login_password=TEST_PASSWORD if scope == "own_credentials" else "not-the-password-1",
        login_email=user.email if user else "nobody@example.invalid",
        login_user=user.pk if user else None,
    )
    if scope == "own_notification":
        names["notification"] = notification_of(role.username, world) if user else 0
    elif scope == "other_notification":
        names["notification"] = notification_of("dream_coordinator", world)
    if "meeting" in names:
        names["item_ids"] = list(
            AgendaItem.objects.filter(meeting_id=names["meeting"]).order_by("-position").values_list("id", flat=True)
        )
    if "case" in names:
        taken = set(CaseAgency.objects.filter(case_id=names["case"]).values_list("agency__code", flat=True))
        names["grantable"] = next((code for code in RING if code not in taken), "DCFS")
    return names


# --- state steps ---------------------------------------------------------------------------------


def _supervisor_of(world: World, agency_code: str) -> User:
    return world.user(f"{agency_code.lower()}_supervisor")


def _case_returned_or_closed(world: World, case_id: int, *, close: bool) -> None:
    """The case's youth is back (every open missing episode gets its return) and, with `close`,
    the case is closed by its lead agency's supervisor (idempotent)."""
    from django.utils import timezone

    from cases.models import Case, MissingEpisode
    from cases.services import cases as case_services
    from cases.services import missing_episodes as episode_services

    case = Case.objects.select_related("lead_agency").get(pk=case_id)
    supervisor = _supervisor_of(world, case.lead_agency.code)
    for episode in MissingEpisode.objects.filter(case_id=case.pk, returned_at__isnull=True):
        episode_services.missing_episode_update(
            episode=episode, actor=supervisor, data={"returned_at": timezone.now() - dt.timedelta(minutes=5)}
        )
    if close and case.status == Case.Status.OPEN:
        case_services.case_close(case=case, actor=supervisor, reason="Synthetic reason")


def prepare(world: World, op: Op, role: Role, scope: str, names: dict[str, Any]) -> None:
    """Bring the row's object to the state the operation needs (idempotent: rows may run in
    sequence on one world)."""
    if op.prep == "screened":
        referral = Referral.objects.select_related("receiving_agency").get(pk=names["accept_referral"])
        if referral.status == Referral.Status.RECEIVED:
            referral_services.referral_screen(
                referral=referral,
                actor=_supervisor_of(world, referral.receiving_agency.code),
                level="possible_concern",
                instrument="CSE-IT",
            )
    elif op.prep == "merged" and scope == "pending":  # the only scope X's supervisor may merge
        source = Youth.objects.get(pk=names["merge_youth"])
        if source.merged_into_id is None:
            youth_services.youth_merge(
                source=source, target=Youth.objects.get(pk=names["own_youth"]), actor=_supervisor_of(world, role.home)
            )
    elif op.prep == "mfa_begun" and not role.anonymous:
        from django_otp.oath import totp

        from accounts.mfa import mfa_is_enrolled, mfa_totp_begin

        user = world.user(role.username)
        if not mfa_is_enrolled(user):
            device = mfa_totp_begin(actor=user)
            names["otp"] = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    elif op.prep in ("returned", "closed") and names.get("case"):
        _case_returned_or_closed(world, names["case"], close=op.prep == "closed")
    elif op.prep == "verify_job" and "verify_job" not in names:
        from audit.services.verify import audit_verify_job_create

        names["verify_job"] = audit_verify_job_create(actor=world.user("dcfs_auditor")).pk
    names.setdefault("otp", "000000")


# --- the request ---------------------------------------------------------------------------------


def fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return names[value[1:-1]]
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


def url_for(op: Op, names: dict[str, Any]) -> str:
    return op.path.format(**{param: names[name] for param, name in op.params.items()}) + op.query


def call(client: APIClient, op: Op, names: dict[str, Any]) -> Any:
    url = url_for(op, names)
    if op.body is None:
        return getattr(client, op.method)(url)
    return getattr(client, op.method)(url, fill(op.body, names), format="json")


def client_for(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def last_event_id() -> int:
    return AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0


# --- the checks every row shares -----------------------------------------------------------------


def check_denied_body(row: Row, response: Any) -> None:
    """A refusal carries no field of the object (SPEC §1: never a hint that it exists)."""
    if row.status not in {401, 403, 404}:
        return
    body = json.loads(response.content)
    assert set(body) <= DENIED_BODY_KEYS, (row.id, body)
    if row.status == 404:
        assert body == NOT_FOUND, (row.id, body)


def check_listed(row: Row, names: dict[str, Any], response: Any) -> None:
    """A list shows the scope's object exactly when the file's `listed` column says so."""
    op = OPERATIONS[row.op_index]
    if op.listed is None or row.listed is None:
        return
    name, expected = op.listed, row.listed
    shown = {item["id"] for item in response.json()["results"]}
    assert (names[name] in shown) == expected, (row.id, name, names[name], "expected" if expected else "hidden")


def check_audit(row: Row, names: dict[str, Any], after: int, world: World) -> None:
    """SPEC §5: every read and write of case data, every authentication event and every
    access-management change leaves an event; so does every refusal of a signed-in caller."""
    op = OPERATIONS[row.op_index]
    role = ROLES_BY_KEY[row.role]
    events = list(
        AuditEvent.objects.filter(id__gt=after).values(
            "actor_id", "action", "outcome", "youth_id", "youth_ids", "object_type"
        )
    )
    actor = None if role.anonymous or not op.signed_in else world.user(role.username).pk
    if row.status < 300 and op.audit:
        # A request without credentials is recorded as the person it acts for (the one logging
        # in, the owner of the calendar feed).
        mine = [e for e in events if e["actor_id"] == (names[op.audit_actor] if op.audit_actor else actor)]
        assert any(e["action"] in op.audit for e in mine), (row.id, "no audit event", op.audit, events)
        if op.youth:
            # A list page's one event names its youth in youth_ids (SPEC §5).
            youth = names[op.youth]
            assert any(e["youth_id"] == youth or youth in (e["youth_ids"] or []) for e in mine), (
                row.id,
                "no youth",
                youth,
                events,
            )
    elif row.status in {403, 404} and actor is not None:
        denied = [e for e in events if e["actor_id"] == actor and e["action"] == AuditEvent.Action.PERMISSION_DENIED]
        assert denied and all(e["outcome"] == AuditEvent.Outcome.DENIED for e in denied), (row.id, events)
    elif op.path == "/api/v1/auth/token/" and row.status == 400:
        assert any(e["action"] == AuditEvent.Action.LOGIN_FAILED for e in events), (row.id, events)
