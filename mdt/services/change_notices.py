"""Batched "agenda changed" notices (SPEC §4): changes after publishing notify the members
again, at most one notice per member per 15 minutes, saying what kind of change (time, place,
items), never to the person who made the change.

How, per member and meeting (AgendaNoticeMark): the first change after a quiet spell is
announced at once; changes made within the 15 minutes after a notice are folded into one notice
at the end of that window, sent by `agenda_change_notices_task` (a Celery task enqueued after
commit with that window's end as its ETA). The task is idempotent — it sends only what is due
and still unsent, and re-enqueues itself for a window not yet over — so a duplicate or early
delivery costs nothing. The members' notices are made from the recorded AgendaChange rows."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from mdt import exports, selectors
from mdt.models import AgendaChange, AgendaNoticeMark, Meeting
from notifications import messages
from notifications.services import notices

logger = logging.getLogger(__name__)

#: At most one "agenda changed" notice per member per meeting in this window.
NOTICE_WINDOW = dt.timedelta(minutes=15)
KIND_ORDER = [AgendaChange.Kind.TIME, AgendaChange.Kind.PLACE, AgendaChange.Kind.ITEMS]


def agenda_change_record(
    *,
    meeting: Meeting,
    kind: str,
    actor: Any,
    old_starts_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> AgendaChange | None:
    """Record a change of a published meeting (inside the caller's transaction, the meeting
    locked) and notify whoever is due a notice now. Nothing for a meeting not published."""
    if meeting.status != Meeting.Status.PUBLISHED:
        return None
    now = now or timezone.now()
    change = AgendaChange.objects.create(
        meeting=meeting,
        kind=kind,
        actor=actor,
        old_starts_at=old_starts_at if kind == AgendaChange.Kind.TIME else None,
        new_starts_at=meeting.starts_at if kind == AgendaChange.Kind.TIME else None,
        new_ends_at=meeting.ends_at if kind == AgendaChange.Kind.TIME else None,
        created_at=now,
    )
    _deliver(meeting=meeting, now=now, actor=actor)
    exports.agenda_pages_prepare_on_commit(meeting)
    return change


def agenda_change_notices_send(*, meeting_id: int, now: dt.datetime | None = None) -> int:
    """What the task runs: the folded notices whose window is over. Returns how many were sent."""
    now = now or timezone.now()
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update(of=("self",)).select_related("team").filter(pk=meeting_id).first()
        if meeting is None:
            return 0
        return _deliver(meeting=meeting, now=now, actor=None)


def _deliver(*, meeting: Meeting, now: dt.datetime, actor: Any) -> int:
    """Send each member the changes made by others since their last notice, if their window is
    over (or they had none); schedule the task for the earliest window still running."""
    members = [u for u in selectors.team_members(team_id=meeting.team_id)]
    marks = {
        m.user_id: m
        for m in AgendaNoticeMark.objects.select_for_update().filter(
            meeting=meeting, user_id__in=[u.pk for u in members]
        )
    }
    floor = min((marks[u.pk].last_change_id if u.pk in marks else 0) for u in members) if members else 0
    changes = list(AgendaChange.objects.filter(meeting=meeting, pk__gt=floor).order_by("id"))
    if not changes:
        return 0
    due: dict[tuple[int, ...], list[Any]] = defaultdict(list)
    next_window_end: dt.datetime | None = None
    for user in members:
        mark = marks.get(user.pk)
        pending = [c for c in changes if c.pk > (mark.last_change_id if mark else 0) and c.actor_id != user.pk]
        if not pending:
            continue
        if mark is not None and mark.notified_at + NOTICE_WINDOW > now:
            # A change recorded now is the first one waiting for this member: the task is due at
            # the end of their window (later changes in it are already covered by that run).
            if actor is None or len(pending) == 1:
                window_end = mark.notified_at + NOTICE_WINDOW
                next_window_end = window_end if next_window_end is None else min(next_window_end, window_end)
            continue
        due[tuple(c.pk for c in pending)].append(user)

    sent = 0
    if meeting.status == Meeting.Status.PUBLISHED:
        by_id = {c.pk: c for c in changes}
        for ids, users in due.items():
            sent += notices.meeting_members_notify(
                meeting=meeting,
                event="changed",
                actor=actor,
                recipients=users,
                change_words=describe_changes([by_id[i] for i in ids]),
            )
    # The marks move on even for a meeting no longer published (held, cancelled): what was not
    # sent then is moot.
    for ids, users in due.items():
        for user in users:
            mark = marks.get(user.pk)
            if mark is None:
                marks[user.pk] = AgendaNoticeMark.objects.create(
                    meeting=meeting, user=user, notified_at=now, last_change_id=max(ids)
                )
            else:
                mark.notified_at, mark.last_change_id = now, max(ids)
                mark.save(update_fields=["notified_at", "last_change_id"])
    if next_window_end is not None and meeting.status == Meeting.Status.PUBLISHED:
        transaction.on_commit(partial(_enqueue, meeting.pk, next_window_end), robust=True)
    return sent


def describe_changes(changes: list[AgendaChange]) -> str:
    """e.g. "time from Wed Mar 11, 2026 9:00 AM PDT to Thu Mar 12, 2026 10:00 AM PDT; items":
    the kinds in a fixed order, a time change with the first old and the last new start."""
    kinds = {c.kind for c in changes}
    words = []
    for kind in KIND_ORDER:
        if kind not in kinds:
            continue
        if kind == AgendaChange.Kind.TIME:
            moves = [c for c in changes if c.kind == kind]
            old, new = moves[0].old_starts_at, moves[-1].new_starts_at
            if old is not None and new is not None and old != new:
                words.append(f"time from {messages.pacific(old)} to {messages.pacific(new)}")
            else:
                words.append(f"time: now ends {messages.pacific(moves[-1].new_ends_at)}")
        else:
            words.append(str(kind))
    return "; ".join(words)


def _enqueue(meeting_id: int, eta: dt.datetime) -> None:
    from mdt.tasks import agenda_change_notices_task

    try:
        agenda_change_notices_task.apply_async(args=[meeting_id], eta=eta)
    except Exception as exc:  # the broker: the next change of this meeting schedules it again
        logger.warning("agenda change notices for meeting %s not scheduled (%s)", meeting_id, type(exc).__name__)
