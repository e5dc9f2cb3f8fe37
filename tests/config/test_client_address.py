"""The client address in the audit log (and the throttles' notion of "one client") comes from the
connection, or from the hop the nearest declared proxy saw; never from what the client claims."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _failed_login(**headers: str) -> AuditEvent:
    APIClient().post(
        "/api/v1/auth/token/",
        {"username": "nobody", "password": "wrong-password-1"},
        REMOTE_ADDR="192.0.2.10",
        **headers,
    )
    return AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)


def test_without_a_proxy_the_connection_address_is_recorded():
    # when
    event = _failed_login(HTTP_X_FORWARDED_FOR="203.0.113.66")

    # then
    assert event.client_ip == "192.0.2.10"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        # the client sent its own header; the proxy appended the real address
        ("203.0.113.66, 198.51.100.7", "198.51.100.7"),
    ],
)
def test_behind_one_proxy_the_hop_it_saw_is_recorded(settings, forwarded, expected):
    # given
    settings.HARBOR_NUM_PROXIES = 1

    # when
    event = _failed_login(HTTP_X_FORWARDED_FOR=forwarded)

    # then
    assert event.client_ip == expected


def test_the_request_id_ties_the_event_to_the_response():
    # when
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "nobody", "password": "wrong-password-1"}, HTTP_X_REQUEST_ID="req-42"
    )

    # then
    assert response["X-Request-ID"] == "req-42"
    assert AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED).request_id == "req-42"
