"""Report periods (SPEC §9): whole calendar quarters in America/Los_Angeles, nothing else.

Why only quarters: two reports over overlapping periods would let a reader subtract one shown
count from another and recover a suppressed one (Jan–Mar minus Jan–Feb is March). With fixed
quarters two periods are the same quarter (suppressed the same way) or disjoint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from core.errors import ApplicationError

LOCAL = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1..4

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), tzinfo=LOCAL)

    @property
    def end(self) -> dt.datetime:
        """Exclusive."""
        return self.next().start

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApplicationError("Send dates as YYYY-MM-DD.", fields={name: ["Not a date."]}) from None


def quarter_from(params: dict[str, str], *, now: dt.datetime | None = None) -> Quarter:
    """`from`/`to` must be the first and last day of one calendar quarter; without them, the
    last complete quarter."""
    raw_from, raw_to = params.get("from", ""), params.get("to", "")
    if not raw_from and not raw_to:
        today = timezone.localtime(now or timezone.now(), LOCAL).date()
        current = Quarter.of(today)
        return Quarter(current.year - 1, 4) if current.number == 1 else Quarter(current.year, current.number - 1)
    start, end = _date(raw_from, "from"), _date(raw_to or raw_from, "to")
    quarter = Quarter.of(start)
    if start != quarter.first_day or end != quarter.last_day:
        raise ApplicationError(
            "Reports answer whole calendar quarters: `from` the first day of a quarter, `to` its last day "
            "(overlapping periods would undo small-cell suppression).",
            fields={"from": ["Must start a quarter."], "to": ["Must end the same quarter."]},
        )
    return quarter
