"""Reads of deadlines and notifications (SPEC §3). INTERFACE CONTRACT for mdt/: keep the
signature of `open_deadlines_for_cases`.

Who sees a deadline is decided here, once: the deadlines of the referrals and cases the user
may see (through cases.selectors), the agenda deadlines of the MDT teams the user coordinates,
and the action-item deadlines assigned to the user. Admins and auditors see none.
Who is *told* about a deadline is decided here too (`deadline_recipients`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.permissions import Role, is_case_role, is_mdt_member_role, role_of

from .models import Deadline, DeadlineRule, Notification, NotificationPreference, Recipients
from .rules import DEFAULT_RULES_BY_CODE, NOTICE_KINDS

logger = logging.getLogger(__name__)
User = get_user_model()


# --- the agenda view's hook ----------------------------------------------------------------------


def open_deadlines_for_cases(*, case_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """{case_id: [{"rule": code, "label": text, "due_at": datetime, "status": open|missed}, …]}
    for the unmet deadlines of those cases, in two queries. Only the rule and due time: safe for
    the agenda view. A referral's deadlines count for the case the referral led to.

    The cases' referral ids are read first so the deadlines are found through their own
    indexes (case, referral): `referral__case_id IN (…)` would join and hash every referral."""
    ids = [int(i) for i in case_ids]
    result: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return result
    Referral = apps.get_model("cases", "Referral")
    referral_case = dict(Referral.objects.filter(case_id__in=ids).values_list("id", "case_id"))
    rows = (
        Deadline.objects.filter(status__in=Deadline.ACTIVE)
        .filter(Q(case_id__in=ids) | Q(referral_id__in=list(referral_case) or [-1]))
        .order_by("due_at", "id")
        .values("case_id", "referral_id", "rule__code", "rule__name", "due_at", "status")
    )
    for row in rows:
        case_id = row["case_id"] or referral_case.get(row["referral_id"])
        if case_id in result:
            result[case_id].append(
                {
                    "rule": row["rule__code"],
                    "label": row["rule__name"],
                    "due_at": row["due_at"],
                    "status": row["status"],
                }
            )
    return result


# --- visibility ----------------------------------------------------------------------------------


def _cases_selector(name: str) -> Any:
    """A selector of cases/ if that app provides it (it decides case visibility)."""
    try:
        from cases import selectors as cases_selectors
    except ImportError:
        return None
    return getattr(cases_selectors, name, None)


def _mdt_selector(name: str) -> Any:
    try:
        from mdt import selectors as mdt_selectors
    except ImportError:
        return None
    return getattr(mdt_selectors, name, None)


def _visible_case_ids(user: Any) -> Any:
    """Ids (a queryset of ids, or an iterable) of the cases the user may see."""
    selector = _cases_selector("case_ids_visible_to")
    if selector is not None:
        return selector(user=user)
    selector = _cases_selector("case_list_visible_to")
    if selector is not None:
        return selector(user=user).values("id")
    return _fallback_case_ids_visible_to(user)


def _visible_referral_ids(user: Any) -> Any:
    selector = _cases_selector("referral_list_visible_to")
    if selector is not None:
        return selector(user=user).values("id")
    return _fallback_referral_ids_visible_to(user)


def _fallback_case_ids_visible_to(user: Any) -> QuerySet:
    """SPEC §1 for case roles, read from the models (used only if cases/ has no selector)."""
    Case = apps.get_model("cases", "Case")
    role = role_of(user)
    if role == Role.CASE_WORKER:
        return Case.objects.filter(team__user=user, team__removed_at__isnull=True).values("id")
    if role == Role.SUPERVISOR and user.agency_id:
        now = timezone.now()
        participating = Q(
            participations__agency_id=user.agency_id,
            participations__revoked_at__isnull=True,
        ) & (Q(participations__expires_at__isnull=True) | Q(participations__expires_at__gt=now))
        return Case.objects.filter(Q(lead_agency_id=user.agency_id) | participating).values("id")
    return Case.objects.none().values("id")


def _fallback_referral_ids_visible_to(user: Any) -> QuerySet:
    Referral = apps.get_model("cases", "Referral")
    role = role_of(user)
    if role == Role.CASE_WORKER:
        return Referral.objects.filter(Q(created_by=user) | Q(case_id__in=_fallback_case_ids_visible_to(user))).values(
            "id"
        )
    if role == Role.SUPERVISOR and user.agency_id:
        return Referral.objects.filter(
            Q(referring_agency_id=user.agency_id)
            | Q(receiving_agency_id=user.agency_id)
            | Q(case_id__in=_fallback_case_ids_visible_to(user))
        ).values("id")
    return Referral.objects.none().values("id")


def coordinated_team_ids(*, user: Any) -> Any:
    """Ids of the MDT teams the user coordinates (mdt.selectors decides; none without mdt/)."""
    selector = _mdt_selector("coordinator_team_ids")
    if selector is not None:
        return selector(user=user)
    try:
        membership = apps.get_model("mdt", "TeamMembership")
    except LookupError:
        return []
    return membership.objects.filter(user=user, is_coordinator=True).values("team_id")


def deadline_list_visible_to(*, user: Any) -> QuerySet[Deadline]:
    """The deadlines the user may see, with what the list shows joined in one query.

    The visible ids are a UNION of indexed id sets (assigned to the user, of the teams they
    coordinate, of their visible referrals, of their visible cases): ORed together the planner
    walks every deadline and tests each against four subqueries. The referral's narrative and
    indicators are deferred: nothing on a deadline shows them, and each would be decrypted."""
    base = (
        Deadline.objects.select_related("rule", "agency", "case", "referral", "referral__case")
        .defer(
            "referral__narrative",
            "referral__indicators",
            "rule__legal_source",
            "rule__met_by",
            "rule__starts_on",
        )
        .order_by("due_at", "id")
    )
    if not user.is_active or not (is_case_role(user) or is_mdt_member_role(user)):
        return base.none()  # admins and auditors see no case data (separation of duties)
    plain = Deadline.objects.order_by()
    parts = [
        plain.filter(assignee_id=user.pk).values("id"),
        plain.filter(team_id__in=coordinated_team_ids(user=user), rule__target="meeting").values("id"),
    ]
    if is_case_role(user):
        parts.append(plain.filter(referral_id__in=_visible_referral_ids(user)).values("id"))
        parts.append(plain.filter(referral__isnull=True, case_id__in=_visible_case_ids(user)).values("id"))
    return base.filter(id__in=parts[0].union(*parts[1:]))


def deadline_get_visible(*, user: Any, pk: int) -> Deadline | None:
    return deadline_list_visible_to(user=user).filter(pk=pk).first()


# --- recipients ----------------------------------------------------------------------------------


class DeadlineRecipients:
    """Who is told about a batch of deadlines, read now (not when they were opened: a team
    change or a deactivation in the meantime is reflected), in three queries whatever the
    batch's size — the case teams of the batch's cases; the active people among them plus the
    active supervisors of the responsible agencies; the coordinators of its MDT teams (by the
    rule of mdt.selectors.team_coordinators).

    The deadlines must come with `referral` and `assignee` loaded (select_related), as the
    sweep's claim does; `recipients()` then runs no query (but for the rare fallback below)."""

    def __init__(self, deadlines: Iterable[Deadline]):
        CaseTeamMember = apps.get_model("cases", "CaseTeamMember")
        deadlines = list(deadlines)
        case_ids = {d.case_id for d in deadlines if d.case_id} | {
            d.referral.case_id for d in deadlines if d.referral_id and d.referral.case_id
        }
        agency_ids = {d.agency_id for d in deadlines if d.agency_id}
        team_ids = {d.team_id for d in deadlines if d.team_id}
        members = list(
            CaseTeamMember.objects.filter(case_id__in=case_ids, removed_at__isnull=True)
            .order_by("user_id")
            .values_list("case_id", "user_id")
        )
        # Every person the batch may need, read once with only what a reminder uses.
        people = User.objects.filter(is_active=True).only("id", "email", "is_active", "agency_id", "role")
        wanted = {user_id for _, user_id in members}
        users = {u.pk: u for u in people.filter(Q(id__in=wanted) | Q(agency_id__in=agency_ids, role=Role.SUPERVISOR))}
        self._team: dict[int, list[Any]] = defaultdict(list)
        for case_id, user_id in members:
            if user_id in users:
                self._team[case_id].append(users[user_id])
        self._supervisors: dict[int, list[Any]] = defaultdict(list)
        for user in sorted(users.values(), key=lambda u: u.pk):
            if user.role == Role.SUPERVISOR and user.agency_id in agency_ids:
                self._supervisors[user.agency_id].append(user)
        # Coordinators by mdt's own rule (active, a role that may sit on a team, an agency).
        coordinators = _mdt_selector("coordinators_by_team")
        self._coordinators: dict[int, list[Any]] = coordinators(team_ids=team_ids) if team_ids else {}

    def _case_team(self, case_id: int | None, agency_id: int | None) -> list[Any]:
        """The active case team, limited to the responsible agency's people."""
        return [u for u in self._team.get(case_id, []) if not agency_id or u.agency_id == agency_id]

    def responsible(self, deadline: Deadline) -> list[Any]:
        strategy = deadline.recipients
        if strategy == Recipients.REFERRAL:
            # The referral's creator, and the responsible agency's people on its case team.
            if not deadline.referral_id:
                return []
            referral = deadline.referral
            people = [referral.created_by] if referral.created_by.is_active else []
            people += self._case_team(referral.case_id, deadline.agency_id)
            return sorted({u.pk: u for u in people}.values(), key=lambda u: u.pk)
        if strategy == Recipients.CASE_TEAM:
            case_id = deadline.case_id or (deadline.referral.case_id if deadline.referral_id else None)
            return self._case_team(case_id, deadline.agency_id)
        if strategy == Recipients.MEETING_COORDINATORS:
            return list(self._coordinators.get(deadline.team_id, []))
        if strategy == Recipients.ASSIGNEE:
            return [deadline.assignee] if deadline.assignee_id else []
        return []

    def recipients(self, deadline: Deadline, stage: str) -> list[tuple[Any, str]]:
        """(user, reason) for one reminder stage, deduplicated, active users only.

        The responsible people get every stage; the overdue stage also goes to the supervisors
        of the responsible agency (escalation). A responsible person deactivated in the meantime
        is skipped; when none is left, the next in line stands in: the agency's supervisors,
        then whoever recorded the target."""
        chosen: dict[int, tuple[Any, str]] = {}
        for user in self.responsible(deadline):
            if user is not None and user.is_active:
                chosen.setdefault(user.pk, (user, Notification.Reason.RESPONSIBLE))
        supervisors = self._supervisors.get(deadline.agency_id, []) if deadline.agency_id else []
        if not chosen:
            substitutes = supervisors or [u for u in _target_fallbacks(deadline) if u.is_active]
            for user in substitutes:
                chosen.setdefault(user.pk, (user, Notification.Reason.SUBSTITUTE))
        if stage == Deadline.Stage.OVERDUE and deadline.escalate_overdue:
            for user in supervisors:
                chosen.setdefault(user.pk, (user, Notification.Reason.ESCALATION))
        if not chosen:
            logger.warning("deadline %s stage %s: no active recipient", deadline.pk, stage)
        return list(chosen.values())


def deadline_recipients(*, deadline: Deadline, stage: str) -> list[tuple[Any, str]]:
    """(user, reason) for one deadline's reminder stage (see DeadlineRecipients)."""
    return DeadlineRecipients([deadline]).recipients(deadline, stage)


def team_member_users(*, team_id: int) -> list[Any]:
    """The active members of an MDT team (who an agenda notice goes to)."""
    selector = _mdt_selector("team_members")
    if selector is not None:
        return list(selector(team_id=team_id))
    membership = apps.get_model("mdt", "TeamMembership")
    members = membership.objects.filter(team_id=team_id).values("user_id")
    return list(User.objects.filter(pk__in=members, is_active=True).order_by("id"))


def _target_fallbacks(deadline: Deadline) -> list[Any]:
    """The last people in line when no responsible person and no supervisor is active: whoever
    recorded the target (a meeting's or an action item's creator)."""
    target = deadline.target
    creator = getattr(target, "created_by", None) if target is not None else None
    return [creator] if creator is not None else []


# --- inbox and preferences -----------------------------------------------------------------------


def notification_list_for(*, user: Any) -> QuerySet[Notification]:
    """The user's own inbox, newest first. No joins: everything shown is on the row."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-id")


def notification_get_for(*, user: Any, pk: int) -> Notification | None:
    return notification_list_for(user=user).filter(pk=pk).first()


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def preference_kinds() -> list[tuple[str, str]]:
    """(code, name) of every reminder kind a person may choose email for."""
    names = dict(DeadlineRule.objects.values_list("code", "name"))
    for code, spec in DEFAULT_RULES_BY_CODE.items():
        names.setdefault(code, spec["name"])
    return sorted(names.items()) + sorted(NOTICE_KINDS.items())


def notification_preferences_for(*, user: Any) -> list[dict[str, Any]]:
    """[{"rule", "name", "email"}] for every kind; email defaults to on."""
    chosen = dict(NotificationPreference.objects.filter(user_id=user.pk).values_list("rule", "email"))
    return [{"rule": code, "name": name, "email": chosen.get(code, True)} for code, name in preference_kinds()]


def email_opt_outs(*, user_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(user_id, rule) pairs for which these users turned email off, in one query."""
    return set(
        NotificationPreference.objects.filter(user_id__in=list(user_ids), email=False).values_list("user_id", "rule")
    )
