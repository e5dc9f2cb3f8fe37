"""Concurrency on PostgreSQL: agenda positions and status changes of one meeting are serialised
by a row lock on the meeting."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.errors import ApplicationError
from mdt.models import AgendaItem, Meeting
from mdt.services.agenda import agenda_item_add
from mdt.services.meetings import meeting_publish
from tests.mdt.factories import CaseFactory
from tests.mdt.support import schedule

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(*targets) -> list[object]:  # type: ignore[no-untyped-def]
    results: list[object] = []
    barrier = threading.Barrier(len(targets))

    def run(target):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_adds_get_distinct_positions(people, star, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    cases = [CaseFactory(court="STAR") for _ in range(6)]
    results = _in_threads(
        *[
            (
                lambda c=c: agenda_item_add(
                    meeting=meeting, case_id=c.pk, reason="other", position=1, actor=people.star_coordinator
                )
            )
            for c in cases
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    positions = sorted(AgendaItem.objects.filter(meeting=meeting).values_list("position", flat=True))
    assert positions == [1, 2, 3, 4, 5, 6]


def test_two_concurrent_publishes_publish_once(people, star, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    results = _in_threads(
        lambda: meeting_publish(meeting=meeting, actor=people.star_coordinator),
        lambda: meeting_publish(meeting=meeting, actor=people.star_coordinator),
    )
    published = [r for r in results if isinstance(r, Meeting)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(published) == 1 and len(refused) == 1 and refused[0].code == "conflict"
