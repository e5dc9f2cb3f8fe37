"""The county and state reports of SPEC §9: counts only, computed from the records (never from
hand-kept tallies), every count through small-cell suppression, for one calendar quarter and one
scope (an agency, or the county). No row names a person, a case or a referral.

Each report is one or more two-way tables (rows: the breakdown; columns: categories that
partition the row's count), so each row has a total and each column a total, and suppression
knows every equation a reader can write. Every report counts the county's records once, each
record under the agency whose `?agency=` filter counts it, and suppresses the county's table and
every agency's as one system (reports.suppression.suppress_scoped): an agency's table is its slice
of it, so the county's table minus the other agencies' recovers nothing. Medians and shares are
shown only where the count they are computed from is shown and at least 11."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import Agency
from cases.models import Case, MissingEpisode, Youth
from mdt.models import ActionItem, AgendaItem
from notifications.models import Deadline

from .periods import LOCAL, Quarter
from .suppression import COMPLEMENTARY, SMALL, Micro, empty_table, suppress_scoped

CSEC_CATEGORIES = (Case.CsecStatus.BEFORE_CARE, Case.CsecStatus.IN_CARE, Case.CsecStatus.WHILE_MISSING)
CSEC_BREAKDOWNS = ("agency", "court", "age_band", "gender_identity")
AGE_BANDS = ((0, 11, "under_12"), (12, 14, "12_14"), (15, 17, "15_17"), (18, 200, "18_and_over"))
COMPLIANCE = ("met_on_time", "met_late", "missed", "waived", "not_applicable", "open")
NONE = "none"


@dataclass(frozen=True)
class Scope:
    """The records a report counts: one agency's, or (agency None) the whole county's."""

    agency: Agency | None

    @property
    def label(self) -> str:
        return self.agency.code if self.agency else "COUNTY"


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    breakdowns: tuple[str, ...]
    build: Callable[[Quarter, Scope, str], dict[str, Any]]


def _median(values: list[float]) -> float | str | None:
    if not values:
        return None
    if len(values) <= SMALL:
        return COMPLEMENTARY
    return round(statistics.median(values), 1)


def _share(part: int | str, whole: int | str) -> float | str | None:
    if not isinstance(part, int) or not isinstance(whole, int):
        return COMPLEMENTARY
    return round(part / whole, 3) if whole else None


def _scoped(
    counts: Counter[Micro], columns: Iterable[str], scope: Scope, breakdowns: tuple[str, ...] = ("table",)
) -> dict[str, dict[str, Any]]:
    """The scope's tables (per breakdown) of the county's counts, suppressed with every other
    scope's: `counts` maps (agency, row per breakdown, column) to a count."""
    cols = tuple(columns)
    answer = suppress_scoped(cols, breakdowns, counts)
    return answer.get(scope.agency.code if scope.agency else None) or {b: empty_table(cols) for b in breakdowns}


def _table(counts: Counter[Micro], columns: Iterable[str], scope: Scope) -> dict[str, Any]:
    return _scoped(counts, columns, scope)["table"]


def _age_band(birth: Any, on: dt.date) -> str:
    """`birth`: the decrypted date of birth (a date), or None."""
    if birth is None:
        return "unknown"
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return next((label for low, high, label in AGE_BANDS if low <= age <= high), "unknown")


# --- CSEC identification (P.L. 113-183 §105) ------------------------------------------------------


def csec_identification(quarter: Quarter, scope: Scope, by: str) -> dict[str, Any]:
    """Youth identified in the quarter per `csec_status` category, counted from the case's
    history (a change into the category within the quarter), by the lead agency and court the
    case had at that moment, the youth's age band then, or gender identity.

    The county's identifications are counted once (a case entering a category twice in the
    quarter counts once, under the agency that led it the first time); an agency's table is
    its slice. Every breakdown of every scope is suppressed together (they share the category
    totals, and the county's cells are the agencies' sums), so fetching them all recovers
    nothing that one hides."""
    history = Case.history.model
    changed = history.objects.filter(
        history_date__gte=quarter.start, history_date__lt=quarter.end, csec_status__in=CSEC_CATEGORIES
    )
    # A subquery, not the ids: a quarter's changes are thousands of cases, and a statement with
    # that many parameters cost more to build and parse than to run.
    case_ids = changed.order_by().values("id")
    entries: list[tuple[int, str, Any]] = []  # (case id, category, history row)
    previous: dict[int, str] = {}
    rows = (
        history.objects.filter(id__in=case_ids, history_date__lt=quarter.end)
        .order_by("id", "history_date", "history_id")
        # Named rows, not model instances: a quarter's history is thousands of rows.
        .values_list("id", "csec_status", "history_date", "lead_agency_id", "court", "youth_id", named=True)
    )
    for row in rows.iterator():
        before = previous.get(row.id)
        previous[row.id] = row.csec_status
        entered = row.csec_status in CSEC_CATEGORIES and row.csec_status != before
        if entered and row.history_date >= quarter.start:
            entries.append((row.id, row.csec_status, row))
    youth_ids = {row.youth_id for _, _, row in entries}
    youths = {y.pk: y for y in Youth.objects.filter(pk__in=youth_ids).only("id", "date_of_birth", "gender_identity")}
    codes = dict(Agency.objects.values_list("pk", "code"))
    counts: Counter[Micro] = Counter()
    seen: set[tuple[int, str]] = set()
    for case_id, category, row in entries:
        if (case_id, category) in seen:
            continue
        seen.add((case_id, category))
        youth = youths.get(row.youth_id)
        agency = codes.get(row.lead_agency_id, NONE)
        keys = (
            agency,
            row.court or NONE,
            _age_band(youth.date_of_birth if youth else None, row.history_date.astimezone(LOCAL).date()),
            youth.gender_identity if youth else "unknown",
        )
        counts[(agency, keys, category)] += 1
    return {"table": _scoped(counts, CSEC_CATEGORIES, scope, CSEC_BREAKDOWNS)[by]}


# --- deadlines: compliance and FRP timeliness -------------------------------------------------------


def _deadline_outcome(status: str, due_at: dt.datetime, met_at: dt.datetime | None, now: dt.datetime) -> str | None:
    """The compliance column of a deadline (its stored values: a report reads thousands, and a
    model instance each cost most of the report's time); None for a superseded one (another
    deadline carries the same duty and is counted instead)."""
    if status == Deadline.Status.SUPERSEDED:
        return None
    if status == Deadline.Status.MET:
        return "met_late" if met_at and met_at > due_at else "met_on_time"
    if status == Deadline.Status.WAIVED:
        return "waived"
    if status in (Deadline.Status.CANCELLED, Deadline.Status.NOT_APPLICABLE):
        return "not_applicable"
    if status == Deadline.Status.MISSED or due_at <= now:
        return "missed"
    return "open"


def _deadlines(quarter: Quarter, rules: Iterable[str] | None = None) -> Any:
    """The county's deadlines of the quarter (an agency's report is its slice: see _scoped)."""
    qs = Deadline.objects.filter(starts_at__gte=quarter.start, starts_at__lt=quarter.end)
    if rules is not None:
        qs = qs.filter(rule__code__in=list(rules))
    # Unordered: what is counted, and the medians, do not depend on the order rows come in.
    return qs.order_by().values_list("rule__code", "agency__code", "status", "starts_at", "due_at", "met_at")


def _outcomes(quarter: Quarter, rules: Iterable[str] | None, now: dt.datetime) -> Any:
    for code, agency, status, starts_at, due_at, met_at in _deadlines(quarter, rules).iterator():
        outcome = _deadline_outcome(status, due_at, met_at, now)
        if outcome is not None:
            yield code, agency or NONE, outcome, starts_at, met_at


FRP_RULES = {"responders_within_90_minutes": "first_response_90m", "services_within_72_hours": "frp_services_72h"}


def deadline_compliance(quarter: Quarter, scope: Scope, by: str) -> dict[str, Any]:
    """Deadlines that started in the quarter, by rule and responsible agency: met on time, met
    late, missed, waived, not applicable (cancelled), still open; median hours to meet.

    The First Responder Protocol's two clocks are left to frp-timeliness: counted in both
    reports, each suppressed on its own, one report's totals would uncover the other's hidden
    cells (its `other` column is waived + not applicable + open here)."""
    counts: Counter[Micro] = Counter()
    to_meet: dict[str, list[float]] = defaultdict(list)
    frp = set(FRP_RULES.values())
    for code, agency, outcome, starts_at, met_at in _outcomes(quarter, None, timezone.now()):
        if code in frp:
            continue
        key = f"{code} {agency}"
        counts[(agency, (key,), outcome)] += 1
        if met_at and outcome.startswith("met"):
            to_meet[key].append((met_at - starts_at).total_seconds() / 3600)
    table = _table(counts, COMPLIANCE, scope)
    for row in table["rows"]:
        row["median_hours_to_meet"] = _median(to_meet[row["row"]])
    return {"table": table}


FRP_COLUMNS = ("within", "later", "not_met", "other")


def frp_timeliness(quarter: Quarter, scope: Scope, by: str) -> dict[str, Any]:
    """The First Responder Protocol's clocks for referrals of the quarter, by responsible
    agency: responders on scene within 90 minutes, services within 72 hours (the deadlines'
    outcomes), with the share within and the median minutes to meet."""
    now = timezone.now()
    counts: dict[str, Counter[Micro]] = {name: Counter() for name in FRP_RULES}
    minutes: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in FRP_RULES}
    for name, rule in FRP_RULES.items():
        for _code, agency, outcome, starts_at, met_at in _outcomes(quarter, [rule], now):
            column = {"met_on_time": "within", "met_late": "later", "missed": "not_met"}.get(outcome, "other")
            counts[name][(agency, (agency,), column)] += 1
            if met_at and outcome.startswith("met"):
                minutes[name][agency].append((met_at - starts_at).total_seconds() / 60)
    # The two clocks count different deadlines: each is its own table.
    answer: dict[str, Any] = {}
    for name in FRP_RULES:
        table = _table(counts[name], FRP_COLUMNS, scope)
        for row in table["rows"]:
            row["share_within"] = _share(row["cells"][0], row["total"])
            row["median_minutes"] = _median(minutes[name][row["row"]])
        table["share_within"] = _share(table["totals"][0], table["total"])
        answer[name] = table
    return answer


# --- missing episodes ----------------------------------------------------------------------------

EPISODE_COLUMNS = ("debriefed_within_72_hours", "debriefed_later", "returned_not_debriefed", "still_missing")


def missing_episodes(quarter: Quarter, scope: Scope, by: str) -> dict[str, Any]:
    """Episodes learned of in the quarter, by the case's lead agency: returned and debriefed
    within 72 hours (WIC 16501.35), later, not yet; still missing; median days missing."""
    qs = MissingEpisode.objects.filter(learned_at__gte=quarter.start, learned_at__lt=quarter.end)
    counts: Counter[Micro] = Counter()
    days: dict[str, list[float]] = defaultdict(list)
    for agency, learned, returned, debrief in qs.values_list(
        "case__lead_agency__code", "learned_at", "returned_at", "return_debrief_at"
    ).iterator():
        if returned is None:
            column = "still_missing"
        else:
            days[agency].append((returned - learned).total_seconds() / 86400)
            if debrief is None:
                column = "returned_not_debriefed"
            elif debrief - returned <= dt.timedelta(hours=72):
                column = "debriefed_within_72_hours"
            else:
                column = "debriefed_later"
        counts[(agency, (agency,), column)] += 1
    table = _table(counts, EPISODE_COLUMNS, scope)
    for row in table["rows"]:
        row["median_days_missing"] = _median(days[row["row"]])
    return {"table": table}


# --- MDT activity -------------------------------------------------------------------------------

ACTION_COLUMNS = ("done_by_due_date", "done_late", "open_overdue", "open", "cancelled")


def mdt_activity(quarter: Quarter, scope: Scope, by: str) -> dict[str, Any]:
    """Per MDT team: cases reviewed at the quarter's meetings, and action items due in the
    quarter by outcome (done by their due date, late, overdue, open, cancelled). An agency's
    report counts the cases it leads."""
    now = timezone.now()
    reviewed = AgendaItem.objects.filter(reviewed_at__gte=quarter.start, reviewed_at__lt=quarter.end)
    items = ActionItem.objects.filter(due_at__gte=quarter.start, due_at__lt=quarter.end)
    review_counts: Counter[Micro] = Counter()
    for team, _case, agency in set(reviewed.values_list("meeting__team__code", "case_id", "case__lead_agency__code")):
        review_counts[(agency, (team,), "cases_reviewed")] += 1
    action_counts: Counter[Micro] = Counter()
    for team, agency, status, due_at, done_at in items.values_list(
        "team__code", "case__lead_agency__code", "status", "due_at", "done_at"
    ).iterator():
        if status == ActionItem.Status.DONE:
            column = "done_late" if done_at and done_at > due_at else "done_by_due_date"
        elif status == ActionItem.Status.CANCELLED:
            column = "cancelled"
        else:
            column = "open_overdue" if due_at <= now else "open"
        action_counts[(agency, (team,), column)] += 1
    return {
        "cases_reviewed": _table(review_counts, ("cases_reviewed",), scope),
        "action_items": _table(action_counts, ACTION_COLUMNS, scope),
    }


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "csec-identification",
            "CSEC identification",
            "Youth identified as commercially sexually exploited in the quarter, by P.L. 113-183 §105 "
            "category (before care, in care, while missing), counted from csec_status history.",
            CSEC_BREAKDOWNS,
            csec_identification,
        ),
        Report(
            "frp-timeliness",
            "First Responder Protocol timeliness",
            "Responders within 90 minutes and services within 72 hours: counts, share within, median.",
            ("agency",),
            frp_timeliness,
        ),
        Report(
            "deadline-compliance",
            "Deadline compliance",
            "Deadlines started in the quarter by rule and agency: met on time, met late, missed, waived, "
            "not applicable, open; median hours to meet.",
            ("rule_agency",),
            deadline_compliance,
        ),
        Report(
            "missing-episodes",
            "Missing episodes",
            "Episodes learned of in the quarter: debrief within 72 hours of return, later, not yet; still "
            "missing; median days missing.",
            ("agency",),
            missing_episodes,
        ),
        Report(
            "mdt-activity",
            "MDT activity",
            "Per MDT team: cases reviewed, action items done by their due date.",
            ("team",),
            mdt_activity,
        ),
    )
}
