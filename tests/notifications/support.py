"""Shared builders: one world with a target for every rule of SPEC §3, and who should hear of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import time_machine
from django.core import mail

from notifications.models import Notification
from notifications.services.deadlines import deadline_open
from tests.notifications import factories as f

#: Monday 6 April 2026, 10:00 in Los Angeles (PDT).
T0 = dt.datetime(2026, 4, 6, 17, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@dataclass
class RuleCase:
    """How one rule's deadline is opened in the test world, its expected clock, and who the
    responsible people and the escalation supervisors are."""

    code: str
    due: dt.timedelta  # from T0
    upcoming: dt.timedelta | None
    overdue: dt.timedelta | None
    responsible: list[str]
    supervisors: list[str] = field(default_factory=list)
    lapse_status: str = "missed"


#: Expected clocks: upcoming at 2/3 of the clock (agenda and action item: 2/3 between the
#: scheduling and the given due time), overdue one hour after (15 min for the 90-min clock,
#: a day for action items), none for the sharing renewal (left to expire counts as met).
RULE_CASES = [
    RuleCase("written_report_36h", 36 * H, 24 * H, 37 * H, ["sheriff_worker"], ["sheriff_supervisor"]),
    RuleCase(
        "first_response_90m",
        90 * dt.timedelta(minutes=1),
        60 * dt.timedelta(minutes=1),
        105 * dt.timedelta(minutes=1),
        ["sheriff_worker", "dcfs_worker"],
        ["dcfs_supervisor", "dcfs_supervisor2"],
    ),
    RuleCase(
        "frp_services_72h",
        72 * H,
        48 * H,
        73 * H,
        ["sheriff_worker", "dcfs_worker"],
        ["dcfs_supervisor", "dcfs_supervisor2"],
    ),
    RuleCase(
        "law_enforcement_report_24h",
        24 * H,
        16 * H,
        25 * H,
        ["sheriff_worker", "dcfs_worker"],
        ["dcfs_supervisor", "dcfs_supervisor2"],
    ),
    RuleCase(
        "missing_law_enforcement_24h", 24 * H, 16 * H, 25 * H, ["dcfs_worker"], ["dcfs_supervisor", "dcfs_supervisor2"]
    ),
    RuleCase("missing_ncmec_24h", 24 * H, 16 * H, 25 * H, ["dcfs_worker"], ["dcfs_supervisor", "dcfs_supervisor2"]),
    RuleCase("missing_attorney_24h", 24 * H, 16 * H, 25 * H, ["dcfs_worker"], ["dcfs_supervisor", "dcfs_supervisor2"]),
    RuleCase("return_debrief_72h", 72 * H, 48 * H, 73 * H, ["dcfs_worker"], ["dcfs_supervisor", "dcfs_supervisor2"]),
    RuleCase("agenda_publish_48h", 5 * 24 * H, 80 * H, 5 * 24 * H + H, ["mdt_coordinator"]),
    # The item's agency (Probation) takes no part in the DCFS-led case: its supervisors may not
    # open the item, so the escalation reaches none of them (SPEC §3: recipients through the
    # visibility selectors; test_sweep pins the escalation once Probation takes part).
    RuleCase("action_item_due", 6 * 24 * H, 4 * 24 * H, 7 * 24 * H, ["probation_worker"], []),
    RuleCase("sharing_renewal_30d", 30 * 24 * H, 20 * 24 * H, None, ["dcfs_worker"], lapse_status="met"),
]
RULE_CASES_BY_CODE = {rc.code: rc for rc in RULE_CASES}


def build_world(cast: SimpleNamespace) -> SimpleNamespace:
    """A DCFS-led STAR case with a DCFS worker and a Sheriff deputy on its team, opened by the
    Sheriff deputy's referral (received and accepted by DCFS), a missing episode, a sharing grant
    to the Sheriff, an MDT meeting a week out (coordinated from Probation) and an action item for
    a Probation worker. Made through the services at T0 (see factories.py)."""
    with time_machine.travel(T0, tick=False):
        referral = f.ReferralFactory(
            created_by=cast.sheriff_worker,
            receiving_agency=cast.agencies["DCFS"],
            hotline_reported_at=T0,
            recovered_at=T0,
        )
        case = f.case_from(referral, cast.dcfs_supervisor)
        referral.refresh_from_db()
        # The deputy joins the team once the Sheriff takes part (SPEC §1: only a participating agency's staff).
        grant = f.participation(case, cast.agencies["SHERIFF"], granted_at=T0, by=cast.dcfs_supervisor)
        f.team_member(case, cast.dcfs_worker)
        f.team_member(case, cast.sheriff_worker, "deputy")
        episode = f.missing_episode(case, learned_at=T0, creator=cast.dcfs_worker, returned_at=T0)
        team = f.mdt_team("STAR")
        f.team_membership(team, cast.mdt_coordinator, coordinator=True)
        f.team_membership(team, cast.mdt_member)
        meeting = f.meeting(team, starts_at=T0 + 7 * 24 * H, creator=cast.mdt_coordinator)
        item = f.action_item(
            case, team, assignee=cast.probation_worker, due_at=T0 + 6 * 24 * H, creator=cast.mdt_coordinator
        )
    return SimpleNamespace(
        case=case, referral=referral, episode=episode, grant=grant, team=team, meeting=meeting, item=item
    )


def target_for(world: SimpleNamespace, code: str) -> Any:
    if code in {"written_report_36h", "first_response_90m", "frp_services_72h", "law_enforcement_report_24h"}:
        return world.referral
    if code.startswith("missing_") or code == "return_debrief_72h":
        return world.episode
    return {"agenda_publish_48h": world.meeting, "action_item_due": world.item, "sharing_renewal_30d": world.grant}[
        code
    ]


def open_rule(world: SimpleNamespace, code: str, actor: Any = None):  # type: ignore[no-untyped-def]
    """Open `code` the way the owning service does (agenda: due 48 h before the meeting;
    action item and sharing: their own due time)."""
    target = target_for(world, code)
    due_at = None
    if code == "action_item_due":
        due_at = target.due_at
    elif code == "sharing_renewal_30d":
        due_at = target.expires_at
    return deadline_open(rule_code=code, target=target, starts_at=T0, actor=actor, due_at=due_at)


def usernames(notifications) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(n.recipient.username for n in notifications)


def stage_notifications(deadline, stage: str) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(Notification.objects.filter(deadline=deadline, stage=stage).select_related("recipient"))


def all_email_text() -> str:
    """Every subject, text body, HTML body and header of the locmem outbox, as one string."""
    parts = []
    for message in mail.outbox:
        parts.append(message.subject)
        parts.append(message.body)
        parts.extend(str(content) for content, _ in getattr(message, "alternatives", []))
        parts.append(str(message.message()))
    return "\n".join(parts)
