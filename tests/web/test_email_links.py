"""Every email link opens a web page (issue 15, SPEC §7): the daily digest opens home at its
outstanding deadlines — the API's `status=outstanding` rows — instead of the API's list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client

from notifications import messages
from notifications.models import Notification
from notifications.services.digest import digests_send
from tests.notifications.conftest import cast, clock, rules  # noqa: F401  (fixtures)
from tests.notifications.support import build_world, open_rule

pytestmark = pytest.mark.django_db
SEVEN_AM = dt.datetime(2026, 4, 7, 14, 0, tzinfo=dt.UTC)


def test_the_digest_links_to_home_at_the_outstanding_deadlines(cast, clock):  # noqa: F811
    world = build_world(cast)
    open_rule(world, "missing_ncmec_24h")
    clock.move_to(SEVEN_AM)
    digests_send()
    supervisor = cast.dcfs_supervisor
    notification = Notification.objects.get(rule="daily_digest", recipient=supervisor)
    base = settings.HARBOR_BASE_URL.rstrip("/")
    assert notification.link == f"{base}{messages.DIGEST_LINK_PATH}"
    assert "/api/" not in notification.link

    # signed out: sign in first, then land there
    path = notification.link.removeprefix(base)
    assert Client().get(path)["Location"].startswith("/app/sign-in/")
    client = Client()
    client.force_login(supervisor)
    page = client.get(path).content.decode()
    assert 'id="deadlines"' in page
    assert f"/app/cases/{world.case.pk}/" in page


def test_no_link_builder_points_at_the_api():
    import inspect

    from notifications.services import digest, notices, sweep

    for module in (messages, digest, notices, sweep):
        assert 'absolute_link(f"/api' not in inspect.getsource(module), module.__name__
