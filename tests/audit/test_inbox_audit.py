"""SPEC §5: the notification inbox is audited like every other read — one `list` event per
page, carrying the ids of the notifications shown."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core.permissions import Role
from notifications.models import Notification
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _notice(user, n):  # type: ignore[no-untyped-def]
    return Notification.objects.create(
        recipient=user, rule="mdt_agenda", stage="notice", subject=f"[Safe Harbor] Agenda published {n}", reference="x"
    )


def test_reading_the_inbox_writes_one_list_event_per_page(make_client):  # type: ignore[no-untyped-def]
    # given a worker with three notifications
    user = UserFactory(agency=AgencyFactory(code="DCFS"), role=Role.CASE_WORKER)
    shown = [_notice(user, n) for n in range(3)]
    # when they read their inbox, two to a page
    client = make_client(user)
    first = client.get("/api/v1/notifications/", {"page_size": 2})
    assert first.status_code == 200
    # then one list event names the two shown
    (event,) = AuditEvent.objects.filter(object_type="notification", action="list")
    assert event.actor_id == user.pk
    ids = {str(i) for i in (event.object_ids or [])} | ({str(event.object_id)} if event.object_id else set())
    assert ids == {str(shown[2].pk), str(shown[1].pk)}
    # and the next page is one more event
    client.get(first.json()["next"])
    assert AuditEvent.objects.filter(object_type="notification", action="list").count() == 2


def test_an_empty_inbox_is_recorded_too(make_client):  # type: ignore[no-untyped-def]
    user = UserFactory(agency=AgencyFactory(code="DCFS"), role=Role.CASE_WORKER)
    assert make_client(user).get("/api/v1/notifications/").json()["results"] == []
    assert AuditEvent.objects.filter(object_type="notification", action="list", actor_id=user.pk).count() == 1
