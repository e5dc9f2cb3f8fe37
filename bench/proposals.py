"""Fixes the benchmark points to in code this engineer does not own, written as runtime patches
so they can be measured before the owners apply them (`bench/run.py --proposals all`, or a
comma list of the names below). Nothing here is imported by the product: each function is the
proposed body of a function in cases/, notifications/ or mdt/, same signature, same answers.

- `case_ids`       cases.selectors.case_ids_visible_to: a case worker's cases start from their
                   team rows (index on user) instead of every case their agency may see.
- `case_ids_lead_row` the same, without the OR, using the invariant that the lead agency always
                   holds an active `lead` participation row (what `all` uses).
- `referral_ids`   cases.selectors.referral_list_visible_to: a UNION of indexed id sets instead
                   of an OR across subqueries (which forces a scan of every referral).
- `youth_ids`      cases.selectors.youth_ids_visible_to: the same, for youth.
- `dup_visible`    cases.selectors.youth_ids_visible_among (the duplicate search): decide visibility of the (≤100)
                   candidates only, with correlated EXISTS, not by computing everything visible.
- `deadline_list`  notifications.selectors.deadline_list_visible_to: UNION of indexed id sets.
- `agenda_deadlines` notifications.selectors.open_deadlines_for_cases: the referrals of the
                   cases first, then one indexed query (no join of every referral).
- `sweep_batch`    notifications.services._sweep_batch: recipients of a whole batch in a fixed
                   number of queries instead of ~2 per deadline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

# --- cases/selectors.py -------------------------------------------------------------------------------


def case_ids_visible_to(*, user: Any) -> Any:
    from django.db.models import Exists, OuterRef, Q

    from accounts.permissions import Role
    from cases.models import Case, CaseAgency, CaseTeamMember
    from cases.selectors import _agency_case_ids, _case_role, participation_active_q

    role = _case_role(user)
    if role is None:
        return Case.objects.none().values("id")
    if role == Role.SUPERVISOR:
        return _agency_case_ids(user.agency_id)
    # A case worker: the cases whose team they are on, while their agency leads or participates.
    participates = CaseAgency.objects.filter(
        participation_active_q(), case_id=OuterRef("case_id"), agency_id=user.agency_id
    )
    return (
        CaseTeamMember.objects.filter(user_id=user.pk, removed_at__isnull=True)
        .filter(Q(case__lead_agency_id=user.agency_id) | Exists(participates))
        .values("case_id")
    )


def case_ids_visible_to_lead_row(*, user: Any) -> Any:
    """The same set, relying on an invariant the cases services keep: the lead agency always
    holds an unrevoked, unexpiring `lead` participation row (`_case_open` grants it; revoking or
    expiring a lead row is refused). Then "lead OR participating" is just "participating", with
    no OR: one index range on (agency, case) for a supervisor, and for a case worker a join of
    their team rows to that index — no scan of every case."""
    from django.db.models import Exists, OuterRef

    from accounts.permissions import Role
    from cases.models import Case, CaseAgency, CaseTeamMember
    from cases.selectors import _case_role, participation_active_q

    role = _case_role(user)
    if role is None:
        return Case.objects.none().values("id")
    active = CaseAgency.objects.filter(participation_active_q(), agency_id=user.agency_id)
    if role == Role.SUPERVISOR:
        return active.values("case_id")
    return (
        CaseTeamMember.objects.filter(user_id=user.pk, removed_at__isnull=True)
        .filter(Exists(active.filter(case_id=OuterRef("case_id"))))
        .values("case_id")
    )


def _referral_id_sets(user: Any) -> list[Any]:
    from accounts.permissions import Role
    from cases.models import Referral
    from cases.selectors import _case_role, case_ids_visible_to

    role = _case_role(user)
    of_cases = Referral.objects.filter(case_id__in=case_ids_visible_to(user=user)).order_by().values("id")
    if role == Role.SUPERVISOR:
        return [
            Referral.objects.filter(referring_agency_id=user.agency_id).order_by().values("id"),
            Referral.objects.filter(receiving_agency_id=user.agency_id).order_by().values("id"),
            of_cases,
        ]
    return [Referral.objects.filter(created_by_id=user.pk).order_by().values("id"), of_cases]


def referral_list_visible_to(*, user: Any) -> Any:
    from cases.models import Referral
    from cases.selectors import _case_role

    if _case_role(user) is None:
        return Referral.objects.none()
    first, *rest = _referral_id_sets(user)
    return (
        Referral.objects.filter(id__in=first.union(*rest))
        .select_related("referring_agency", "receiving_agency")
        .order_by("-id")
    )


def youth_ids_visible_to(*, user: Any) -> Any:
    from accounts.permissions import Role
    from cases.models import Case, Referral, Youth
    from cases.selectors import _case_role, case_ids_visible_to

    role = _case_role(user)
    if role is None:
        return Youth.objects.none().values("id")
    first, *rest = _referral_id_sets(user)
    by_referral = Referral.objects.filter(id__in=first.union(*rest)).order_by().values("youth_id")
    by_case = Case.objects.filter(id__in=case_ids_visible_to(user=user)).order_by().values("youth_id")
    held = (
        (
            Youth.objects.filter(holding_agency_id=user.agency_id)
            if role == Role.SUPERVISOR
            else Youth.objects.filter(created_by_id=user.pk)
        )
        .order_by()
        .values("id")
    )
    return Youth.objects.filter(id__in=by_referral.union(by_case, held)).order_by().values("id")


def youth_visible_among(*, user: Any, ids: Iterable[int]) -> set[int]:
    """Which of these youth ids the user may see — the same rule as youth_ids_visible_to, asked
    of a handful of rows with correlated EXISTS (index on referral.youth_id, case.youth_id)."""
    from django.db.models import Exists, OuterRef, Q

    from accounts.permissions import Role
    from cases.models import Case, Referral, Youth
    from cases.selectors import _case_role, case_ids_visible_to

    ids = list(ids)
    role = _case_role(user)
    if role is None or not ids:
        return set()
    cases = case_ids_visible_to(user=user)
    if role == Role.SUPERVISOR:
        ref_q = Q(referring_agency_id=user.agency_id) | Q(receiving_agency_id=user.agency_id) | Q(case_id__in=cases)
        own = Q(holding_agency_id=user.agency_id)
    else:
        ref_q = Q(created_by_id=user.pk) | Q(case_id__in=cases)
        own = Q(created_by_id=user.pk)
    q = (
        own
        | Exists(Referral.objects.filter(ref_q, youth_id=OuterRef("pk")))
        | Exists(Case.objects.filter(id__in=cases, youth_id=OuterRef("pk")))
    )
    return set(Youth.objects.filter(id__in=ids).filter(q).values_list("id", flat=True))


# --- notifications/selectors.py -------------------------------------------------------------------------


def deadline_list_visible_to(*, user: Any) -> Any:
    from accounts.permissions import is_case_role, is_mdt_member_role
    from notifications.models import Deadline
    from notifications.selectors import _visible_case_ids, _visible_referral_ids, coordinated_team_ids

    base = Deadline.objects.select_related("rule", "agency", "case", "referral").order_by("due_at", "id")
    if not user.is_active or not (is_case_role(user) or is_mdt_member_role(user)):
        return base.none()
    plain = Deadline.objects.order_by()
    parts = [
        plain.filter(assignee_id=user.pk).values("id"),
        plain.filter(team_id__in=coordinated_team_ids(user=user), rule__target="meeting").values("id"),
    ]
    if is_case_role(user):
        parts.append(plain.filter(referral_id__in=_visible_referral_ids(user)).values("id"))
        parts.append(plain.filter(referral__isnull=True, case_id__in=_visible_case_ids(user)).values("id"))
    return base.filter(id__in=parts[0].union(*parts[1:]))


def open_deadlines_for_cases(*, case_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    from django.db.models import Q

    from cases.models import Referral
    from notifications.models import Deadline

    ids = [int(i) for i in case_ids]
    result: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return result
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


# --- notifications/services.py: the sweep ---------------------------------------------------------------


class RecipientIndex:
    """Everything `deadline_recipients` reads, for a whole batch, in a fixed number of queries."""

    def __init__(self, deadlines: list[Any]):
        from django.contrib.auth import get_user_model

        from accounts.permissions import Role
        from cases.models import CaseTeamMember
        from mdt.models import TeamMembership

        User = get_user_model()
        case_ids = {d.case_id for d in deadlines if d.case_id} | {
            d.referral.case_id for d in deadlines if d.referral_id and d.referral.case_id
        }
        agency_ids = {d.agency_id for d in deadlines if d.agency_id}
        team_ids = {d.team_id for d in deadlines if d.team_id}
        self.team: dict[int, list[Any]] = defaultdict(list)
        for m in (
            CaseTeamMember.objects.filter(case_id__in=case_ids, removed_at__isnull=True, user__is_active=True)
            .select_related("user")
            .order_by("user_id")
        ):
            self.team[m.case_id].append(m.user)
        self.supervisors: dict[int, list[Any]] = defaultdict(list)
        for u in User.objects.filter(agency_id__in=agency_ids, role=Role.SUPERVISOR, is_active=True).order_by("id"):
            self.supervisors[u.agency_id].append(u)
        self.coordinators: dict[int, list[Any]] = defaultdict(list)
        for m in (
            TeamMembership.objects.filter(team_id__in=team_ids, is_coordinator=True, user__is_active=True)
            .select_related("user")
            .order_by("user_id")
        ):
            self.coordinators[m.team_id].append(m.user)

    def responsible(self, deadline: Any) -> list[Any]:
        from notifications.models import Recipients

        strategy = deadline.recipients
        if strategy == Recipients.REFERRAL:
            if not deadline.referral_id:
                return []
            referral = deadline.referral
            people = [referral.created_by] if referral.created_by.is_active else []
            if referral.case_id:
                people += [
                    u
                    for u in self.team.get(referral.case_id, [])
                    if not deadline.agency_id or u.agency_id == deadline.agency_id
                ]
            return sorted({u.pk: u for u in people}.values(), key=lambda u: u.pk)
        if strategy == Recipients.CASE_TEAM:
            case_id = deadline.case_id or (deadline.referral.case_id if deadline.referral_id else None)
            return [
                u for u in self.team.get(case_id, []) if not deadline.agency_id or u.agency_id == deadline.agency_id
            ]
        if strategy == Recipients.MEETING_COORDINATORS:
            return list(self.coordinators.get(deadline.team_id, []))
        if strategy == Recipients.ASSIGNEE:
            return [deadline.assignee] if deadline.assignee_id else []
        return []

    def recipients(self, deadline: Any, stage: str) -> list[tuple[Any, str]]:
        from notifications.models import Deadline, Notification
        from notifications.selectors import _target_fallbacks

        chosen: dict[int, tuple[Any, str]] = {}
        for user in self.responsible(deadline):
            if user is not None and user.is_active:
                chosen.setdefault(user.pk, (user, Notification.Reason.RESPONSIBLE))
        supervisors = self.supervisors.get(deadline.agency_id, []) if deadline.agency_id else []
        if not chosen:
            substitutes = supervisors or [u for u in _target_fallbacks(deadline) if u.is_active]
            for user in substitutes:
                chosen.setdefault(user.pk, (user, Notification.Reason.SUBSTITUTE))
        if stage == Deadline.Stage.OVERDUE and deadline.escalate_overdue:
            for user in supervisors:
                chosen.setdefault(user.pk, (user, Notification.Reason.ESCALATION))
        return list(chosen.values())


def deadlines_bulk_set(batch: list[Any], *, now: Any) -> None:
    """One UPDATE … FROM unnest(arrays) for the whole batch. Django's bulk_update builds a CASE
    WHEN per row and field (6 × 500 here), which costs far more to compile than to run."""
    from django.db import connection

    from notifications.models import Deadline

    if connection.vendor != "postgresql":
        fields = ["status", "met_at", "missed_at", "next_stage", "next_reminder_at", "updated_at"]
        Deadline.objects.bulk_update(batch, fields, batch_size=500)
        return
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE notifications_deadline AS d SET status = v.status, met_at = v.met_at, missed_at = v.missed_at, "
            "next_stage = v.next_stage, next_reminder_at = v.next_reminder_at, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::varchar[], %s::timestamptz[], %s::timestamptz[], %s::varchar[], %s::timestamptz[]) "
            "AS v(id, status, met_at, missed_at, next_stage, next_reminder_at) WHERE d.id = v.id",
            [
                now,
                [d.pk for d in batch],
                [d.status for d in batch],
                [d.met_at for d in batch],
                [d.missed_at for d in batch],
                [d.next_stage for d in batch],
                [d.next_reminder_at for d in batch],
            ],
        )


NOTIFICATION_COLUMNS = [
    ("deadline_id", "bigint"),
    ("recipient_id", "bigint"),
    ("rule", "varchar"),
    ("stage", "varchar"),
    ("reason", "varchar"),
    ("subject", "varchar"),
    ("reference", "varchar"),
    ("due_at", "timestamptz"),
    ("link", "varchar"),
    ("case_id", "bigint"),
    ("referral_id", "bigint"),
    ("meeting_id", "bigint"),
    ("created_at", "timestamptz"),
    ("delivery_status", "varchar"),
    ("attempts", "smallint"),
    ("redeliver_after", "timestamptz"),
]


def notifications_bulk_insert(rows: list[Any]) -> None:
    """INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING: one statement, a handful of
    parameters, instead of Django compiling 19 placeholders per row."""
    from django.db import connection
    from django.utils import timezone

    from notifications.models import Notification

    if not rows:
        return
    if connection.vendor != "postgresql":
        Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        return
    now = timezone.now()
    for n in rows:
        n.created_at = n.created_at or now
    names = ", ".join(c for c, _ in NOTIFICATION_COLUMNS)
    arrays = ", ".join(f"%s::{t}[]" for _, t in NOTIFICATION_COLUMNS)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO notifications_notification ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING",  # noqa: S608
            [[getattr(n, c) for n in rows] for c, _ in NOTIFICATION_COLUMNS],
        )


def sweep_batch(now: Any, batch_size: int) -> tuple[int, int, int]:
    """notifications.services._sweep_batch with the recipients of the batch read at once."""
    from functools import partial

    from django.db import connection, transaction

    from notifications import messages
    from notifications import services as s
    from notifications.models import Deadline, Notification
    from notifications.selectors import email_opt_outs

    with transaction.atomic():
        claim = (
            Deadline.objects.filter(next_reminder_at__lte=now)
            # Only what the reminders need (the referral's narrative is not decrypted for nothing).
            .select_related("rule", "referral__created_by", "assignee")
            .defer("referral__narrative", "referral__indicators")
            .order_by("next_reminder_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            claim = claim.select_for_update(skip_locked=True, of=("self",))
        batch = list(claim[:batch_size])
        if not batch:
            return 0, 0, 0
        index = RecipientIndex(batch)
        planned = []
        missed = 0
        for deadline in batch:
            was_open = deadline.status == Deadline.Status.OPEN
            stage = s._advance(deadline, now)
            missed += int(was_open and deadline.status == Deadline.Status.MISSED)
            if stage:
                planned.append((deadline, stage, index.recipients(deadline, stage)))
        opt_outs = email_opt_outs(user_ids={user.pk for _, _, people in planned for user, _ in people})
        link = messages.absolute_link
        rows = [
            s._new_notification(
                user=user,
                reason=reason,
                rule_code=deadline.rule.code,
                stage=stage,
                email=s._email_wanted(user, deadline.rule.code, stage, opt_outs),
                now=now,
                deadline=deadline,
                subject=messages.reminder_subject(
                    stage=stage, rule_name=deadline.rule.name, reference=deadline.reference
                ),
                reference=deadline.reference,
                due_at=deadline.due_at,
                link=link(deadline.link_path),
                case_id=deadline.case_id,
                referral_id=deadline.referral_id,
            )
            for deadline, stage, people in planned
            for user, reason in people
        ]
        deadlines_bulk_set(batch, now=now)
        notifications_bulk_insert(rows)
        pending = list(
            Notification.objects.filter(
                deadline_id__in=[d.pk for d in batch], delivery_status=Notification.Delivery.PENDING
            ).values_list("id", flat=True)
        )
        if pending:
            transaction.on_commit(partial(s._enqueue_sends, pending), robust=True)
        return len(batch), len(rows), missed


# --- applying them ---------------------------------------------------------------------------------------

PATCHES: dict[str, list[tuple[str, str, Any]]] = {
    "case_ids": [("cases.selectors", "case_ids_visible_to", case_ids_visible_to)],
    "case_ids_lead_row": [("cases.selectors", "case_ids_visible_to", case_ids_visible_to_lead_row)],
    "referral_ids": [("cases.selectors", "referral_list_visible_to", referral_list_visible_to)],
    "youth_ids": [("cases.selectors", "youth_ids_visible_to", youth_ids_visible_to)],
    "dup_visible": [("cases.selectors", "youth_ids_visible_among", youth_visible_among)],
    "deadline_list": [("notifications.selectors", "deadline_list_visible_to", deadline_list_visible_to)],
    "agenda_deadlines": [("notifications.selectors", "open_deadlines_for_cases", open_deadlines_for_cases)],
    "sweep_batch": [("notifications.services", "_sweep_batch", sweep_batch)],
}


def apply(names: str) -> list[str]:
    """Patch the named proposals in (every module that imported the original gets the new one)."""
    import importlib
    import sys

    everything = [n for n in PATCHES if n != "case_ids"]  # the lead-row variant replaces it
    chosen = everything if names.strip() == "all" else [n.strip() for n in names.split(",") if n.strip()]
    applied = []
    for name in chosen:
        for module_name, attr, new in PATCHES[name]:
            module = importlib.import_module(module_name)
            old = getattr(module, attr)
            for other in list(sys.modules.values()):
                if other is not None and getattr(other, attr, None) is old:
                    setattr(other, attr, new)
            applied.append(f"{module_name}.{attr}")
    return applied
