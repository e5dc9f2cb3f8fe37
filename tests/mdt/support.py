"""Small steps the MDT tests share: schedule, fill and publish a meeting through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mdt.models import AgendaItem, Meeting
from mdt.services.agenda import agenda_item_add
from mdt.services.meetings import meeting_publish, meeting_schedule

#: Monday 2 March 2026, 9:00 Pacific (PST). Daylight saving starts on Sunday 8 March.
T0 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
#: "Next week's meeting": Wednesday 11 March 2026, 9:00-11:00 Pacific (PDT, UTC-7).
NEXT_WEEK = dt.datetime(2026, 3, 11, 16, 0, tzinfo=dt.UTC)


def schedule(team: Any, coordinator: Any, starts_at: dt.datetime = NEXT_WEEK, **kwargs: Any) -> Meeting:
    return meeting_schedule(
        team=team,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        location=kwargs.pop("location", "Compton Courthouse, Dept. 2"),
        actor=coordinator,
        **kwargs,
    )[0]


def add(meeting: Meeting, case: Any, coordinator: Any, reason: str = AgendaItem.Reason.PROGRESS_REVIEW) -> AgendaItem:
    return agenda_item_add(meeting=meeting, case_id=case.pk, reason=reason, actor=coordinator)


def published_meeting(team: Any, coordinator: Any, cases: list[Any], starts_at: dt.datetime = NEXT_WEEK) -> Meeting:
    meeting = schedule(team, coordinator, starts_at)
    for case in cases:
        add(meeting, case, coordinator)
    return meeting_publish(meeting=meeting, actor=coordinator)
