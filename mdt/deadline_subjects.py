"""How mdt/ describes its deadline subjects to notifications/ (registered in `MdtConfig.ready()`).

The subjects are meetings (the agenda deadline, reminding the team's coordinators) and action
items (reminding the assignee, or the case team). Who may see a meeting's deadlines and who is
told about them is decided by mdt's own selectors.
"""

from __future__ import annotations

from typing import Any

from notifications import subjects
from notifications.models import Recipients, TargetKind

from . import selectors


def _empty() -> dict[str, Any]:
    keys = ("case_id", "referral_id", "youth_id", "agency_id", "team_id", "assignee_id")
    return dict.fromkeys(keys)


def describe_meeting(rule: Any, meeting: Any) -> dict[str, Any]:
    team = meeting.team
    out = _empty()
    out.update(
        team_id=team.pk,
        reference=f"{team.code} meeting M-{meeting.pk}",
        link_path=f"/app/mdt/meetings/{meeting.pk}/agenda/",
    )
    return out


def describe_action_item(rule: Any, item: Any) -> dict[str, Any]:
    """An action item is about a case: the item's agency is responsible (the case's lead agency
    when the rule says so), the assignee is reminded."""
    case = item.case
    out = _empty()
    out.update(case_id=case.pk, youth_id=case.youth_id, reference=f"Case {case.number}")
    out.update(assignee_id=item.assignee_id, agency_id=item.agency_id)
    out["link_path"] = "/app/mdt/action-items/"
    if rule.responsible_agency == "lead":
        out["agency_id"] = case.lead_agency_id
    return out


def visible(*, user: Any, deadlines: Any) -> list[Any]:
    """The meeting deadlines of the MDT teams the user coordinates."""
    team_ids = selectors.coordinator_team_ids(user=user)
    return [deadlines.filter(team_id__in=team_ids, rule__target=TargetKind.MEETING).values("id")]


def visibility_keys(users: list[Any]) -> dict[int, frozenset[int]]:
    """People who coordinate the same teams see the same meeting deadlines (one query)."""
    return selectors.coordinated_team_sets(users=users)


def coordinators_loader(deadlines: list[Any]) -> Any:
    """The active coordinators of the batch's teams (mdt's rule: active, a role that may sit on
    a team), in one query for the batch."""
    team_ids = {d.team_id for d in deadlines if d.team_id}
    coordinators = selectors.coordinators_by_team(team_ids=team_ids) if team_ids else {}
    return lambda deadline: list(coordinators.get(deadline.team_id, []))


def assignee_loader(deadlines: list[Any]) -> Any:
    """An action item's assignee (loaded with the deadline: no query)."""
    return lambda deadline: [deadline.assignee] if deadline.assignee_id else []


def team_members(team_id: int) -> list[Any]:
    return list(selectors.team_members(team_id=team_id))


def register() -> None:
    subjects.register(
        subjects=[
            subjects.Subject(TargetKind.MEETING, "mdt.meeting", describe_meeting),
            subjects.Subject(TargetKind.ACTION_ITEM, "mdt.actionitem", describe_action_item),
        ],
        visible=visible,
        visibility_keys=visibility_keys,
        responsible={Recipients.MEETING_COORDINATORS: coordinators_loader, Recipients.ASSIGNEE: assignee_loader},
        team_members=team_members,
    )
