"""Celery tasks of mdt/: thin, idempotent, ids only."""

from __future__ import annotations

from celery import shared_task

from mdt.exports import agenda_pages_prepare
from mdt.services.change_notices import agenda_change_notices_send


@shared_task(name="mdt.tasks.agenda_change_notices_task", ignore_result=True, acks_late=True)
def agenda_change_notices_task(meeting_id: int) -> int:
    """At the end of a member's 15-minute window: one notice folding the changes made in it."""
    return agenda_change_notices_send(meeting_id=meeting_id)


@shared_task(name="mdt.tasks.agenda_pages_prepare_task", ignore_result=True, acks_late=True)
def agenda_pages_prepare_task(meeting_id: int) -> bool:
    """Lay a published agenda's pages out ahead of its first print (mdt.exports)."""
    return agenda_pages_prepare(meeting_id=meeting_id)
