"""Reads of deadlines and notifications (SPEC §3). INTERFACE CONTRACT for mdt/: keep the
signature of `open_deadlines_for_cases`.

Who sees a deadline: the deadlines assigned to the user, and those each app that registered
its subjects (`notifications.subjects`) lets the user see through its own visibility selectors
— cases/ the deadlines of the referrals and cases the user may see, mdt/ the agenda deadlines
of the MDT teams the user coordinates. Admins and auditors see none.
Who is *told* about a deadline is decided here too (`deadline_recipients`), with the people
each app names as responsible.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from core.permissions import Role, is_case_role, is_mdt_member_role, is_supervisor, is_system_admin

from . import subjects
from .models import Deadline, DeadlineRule, Notification, NotificationDelivery, NotificationPreference
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
    referral_case = subjects.referral_cases(case_ids=ids)
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


def _visible(user: Any, deadlines: QuerySet[Deadline], *, assigned: bool = True) -> QuerySet[Deadline]:
    """`deadlines` narrowed to those assigned to the user (unless `assigned` is False: the
    apps' part alone) or visible through a registered app. An app answers id subqueries
    (UNIONed: indexed look-ups of a few hundred ids) or, for a reader who sees most of them,
    `RowCondition`s tested per row, so a page walks the list's index and stops early."""
    plain = Deadline.objects.order_by()
    parts = [plain.filter(assignee_id=user.pk).values("id")] if assigned else []
    condition = Q(pk__in=[])
    for part in subjects.visible_deadline_ids(user=user, deadlines=plain):
        if isinstance(part, subjects.RowCondition):
            deadlines = deadlines.annotate(**part.joins)
            condition |= part.condition
        else:
            parts.append(part)
    if parts:
        condition |= Q(id__in=parts[0].union(*parts[1:]))
    return deadlines.filter(condition)


def deadline_list_visible_to(*, user: Any) -> QuerySet[Deadline]:
    """The deadlines the user may see, with what the list shows joined in one query.

    The visible ids are a UNION of indexed id sets (assigned to the user, and each registered
    app's: of the teams they coordinate, of their visible referrals, of their visible cases):
    ORed together the planner walks every deadline and tests each against four subqueries. The referral's narrative and
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
    return _visible(user, base)


def deadline_get_visible(*, user: Any, pk: int) -> Deadline | None:
    return deadline_list_visible_to(user=user).filter(pk=pk).first()


def deadline_ids_visible_among(*, user: Any, ids: Iterable[int], assigned: bool = True) -> set[int]:
    """Which of these deadline ids `user` may see (one query): the visibility rule of
    `deadline_list_visible_to`, without what a list shows. With `assigned=False`, only what the
    registered apps let them see (the part people of one visibility key share)."""
    ids = list(ids)
    if not ids or not user.is_active or not (is_case_role(user) or is_mdt_member_role(user)):
        return set()
    plain = Deadline.objects.order_by()
    return set(_visible(user, plain.filter(id__in=ids), assigned=assigned).values_list("id", flat=True))


# --- recipients ----------------------------------------------------------------------------------


class DeadlineRecipients:
    """Who is told about a batch of deadlines, read now (not when they were opened: a team
    change or a deactivation in the meantime is reflected), in a fixed number of queries
    whatever the batch's size: each registered app's people responsible for its deadlines
    (cases/: the case teams of the batch's cases; mdt/: the coordinators of its MDT teams, by
    the rule of mdt's selectors), and the active supervisors of the responsible agencies.

    No one is told of a deadline they may not see (SPEC §3: recipients are chosen through the
    visibility selectors). The people each app names as responsible see it by that app's rule
    (the case team its case, the creator their referral, the assignee their item); a supervisor
    (escalation, substitute) or a last-in-line creator is checked: one query per visibility key
    (`subjects.visibility_keys`: the supervisors of one agency who coordinate the same MDT teams
    share one) and batch, plus what each is assigned, read from the batch itself; so the cost
    grows with the batch's agencies, not with their supervisors or the batch.

    The deadlines must come with `referral` and `assignee` loaded (select_related), as the
    sweep's claim does; `recipients()` then runs no query but those checks (and the rare
    fallback below)."""

    def __init__(self, deadlines: Iterable[Deadline]):
        deadlines = list(deadlines)
        self._ids = [d.pk for d in deadlines]
        self._seen: dict[int, set[int]] = {}
        self._assigned: dict[int, set[int]] = defaultdict(set)
        for d in deadlines:
            if d.assignee_id:
                self._assigned[d.assignee_id].add(d.pk)
        loaders = subjects.responsible_loaders()
        prepared: dict[int, Any] = {}
        for loader in loaders.values():
            if id(loader) not in prepared:
                prepared[id(loader)] = loader(deadlines)
        self._responsible = {strategy: prepared[id(loader)] for strategy, loader in loaders.items()}
        agency_ids = {d.agency_id for d in deadlines if d.agency_id}
        supervisors = (
            User.objects.filter(is_active=True, agency_id__in=agency_ids, role=Role.SUPERVISOR)
            # is_superuser too: the visibility rules read the role through it
            .only("id", "email", "is_active", "agency_id", "role", "is_superuser")
            .order_by("id")
        )
        self._supervisors: dict[int, list[Any]] = defaultdict(list)
        for user in supervisors if agency_ids else ():
            assert user.agency_id is not None  # filtered on agency_id__in
            self._supervisors[user.agency_id].append(user)

    def sees(self, user: Any, deadline: Deadline) -> bool:
        """Whether `user` may see `deadline`: checked for the whole batch at once, together with
        the other supervisors of their agency."""
        if user.pk not in self._seen:
            self._check([user, *self._supervisors.get(user.agency_id, [])])
        return deadline.pk in self._seen[user.pk]

    def _check(self, users: list[Any]) -> None:
        """What of the batch each of `users` may see: one query per visibility key (asked of one
        of the people who share it, without what is assigned to them) and per person without
        one; what is assigned to each comes from the batch."""
        users = list({u.pk: u for u in users if u.pk not in self._seen}.values())
        keys = subjects.visibility_keys(users=users)
        shared: dict[Any, set[int]] = {}
        for user in users:
            key = keys.get(user.pk) if user.is_active else None
            if key is None:
                self._seen[user.pk] = deadline_ids_visible_among(user=user, ids=self._ids)
                continue
            if key not in shared:
                shared[key] = deadline_ids_visible_among(user=user, ids=self._ids, assigned=False)
            self._seen[user.pk] = shared[key] | self._assigned.get(user.pk, set())

    def responsible(self, deadline: Deadline) -> list[Any]:
        responsible = self._responsible.get(deadline.recipients)
        return responsible(deadline) if responsible is not None else []

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
        if supervisors and (not chosen or (stage == Deadline.Stage.OVERDUE and deadline.escalate_overdue)):
            # The supervisors who may open what the reminder names; the others hear nothing of it.
            supervisors = [u for u in supervisors if self.sees(u, deadline)]
        if not chosen:
            substitutes = supervisors or [
                u for u in _target_fallbacks(deadline) if u.is_active and self.sees(u, deadline)
            ]
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
    """The active members of an MDT team (who an agenda notice goes to; mdt/ decides)."""
    return subjects.team_members(team_id=team_id)


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


# --- failed deliveries ---------------------------------------------------------------------------


def notification_failures_for(*, user: Any) -> QuerySet[Notification] | None:
    """The failed emails the user is shown (SPEC §3: never silent), newest first; None for a
    user who is shown none (403):

    - a supervisor: the failed escalations of their agency's deadlines sent to the agency's
      *other* supervisors (their own are in their inbox);
    - a system admin: every failure, without its content (the API leaves it out).
    Each row carries its last attempt's time and error class."""
    last = NotificationDelivery.objects.filter(notification_id=OuterRef("pk")).order_by("-id")
    failed = (
        Notification.objects.filter(delivery_status=Notification.Delivery.FAILED)
        .select_related("recipient__agency")
        .only(
            *("id", "deadline_id", "rule", "stage", "reason", "reference", "due_at", "link", "attempts", "created_at"),
            *("recipient__id", "recipient__agency__code"),
        )
        .annotate(failed_at=Max("deliveries__attempted_at"), error_class=Subquery(last.values("error_class")[:1]))
        .order_by("-id")
    )
    if not user.is_active:
        return None
    if is_system_admin(user):
        return failed
    if is_supervisor(user) and user.agency_id:
        return failed.filter(
            reason=Notification.Reason.ESCALATION,
            deadline__agency_id=user.agency_id,
            recipient__agency_id=user.agency_id,
        ).exclude(recipient_id=user.pk)
    return None
