"""`manage.py demo_otp` prints a demo admin's one-time code and refuses everyone else, without
enrolling them (which would lock them out of the documented password login)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import seed_demo_users
from accounts.services import agencies_bootstrap

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(db):  # type: ignore[no-untyped-def]
    agencies_bootstrap()
    seed_demo_users()


def test_a_demo_admin_gets_a_code(demo_people):  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("demo_otp", "dcfs_agency_admin", stdout=out)
    assert out.getvalue().strip().isdigit()


@pytest.mark.parametrize("username", ["dcfs_case_worker", "dcfs_supervisor", "probation_mdt_member"])
def test_a_demo_user_who_is_not_an_admin_is_refused_and_not_enrolled(demo_people, username):  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="username and password"):
        call_command("demo_otp", username, stdout=StringIO())
    assert not TOTPDevice.objects.filter(user__username=username).exists()
