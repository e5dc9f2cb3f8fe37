"""Management commands of SPEC §6: `bootstrap` is idempotent, `seed_demo` refuses production."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.demo import DEMO_ROLES, seed_demo_users
from accounts.models import Agency, User

pytestmark = pytest.mark.django_db


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, so "changes nothing" means nothing."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: sorted(map(tuple, model._default_manager.order_by().values_list()), key=repr)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.db_table in tables
    }


def test_bootstrap_creates_the_four_partner_agencies():
    # when
    call_command("bootstrap", stdout=StringIO())

    # then
    assert set(Agency.objects.values_list("code", flat=True)) >= {"DMH", "PROBATION", "DCFS", "SHERIFF"}


def test_bootstrap_twice_changes_nothing():
    # given
    call_command("bootstrap", stdout=StringIO())
    before = _snapshot()

    # when
    out = StringIO()
    call_command("bootstrap", stdout=out)

    # then
    assert _snapshot() == before
    assert "agencies: 0 created" in out.getvalue()


def test_bootstrap_keeps_an_admins_change_to_an_agency():
    # given: an admin renamed an agency after the first bootstrap
    call_command("bootstrap", stdout=StringIO())
    Agency.objects.filter(code="DMH").update(name="Department of Mental Health (renamed)")

    # when
    call_command("bootstrap", stdout=StringIO())

    # then
    assert Agency.objects.get(code="DMH").name == "Department of Mental Health (renamed)"


@pytest.mark.parametrize("environment", ["production", "prod", "staging", "", "unknown"])
@pytest.mark.parametrize("command", ["seed_demo", "demo_otp", "seed_scale"])
def test_demo_commands_refuse_every_environment_not_on_the_allow_list(settings, environment, command):
    # given an environment that is not local, test or bench — misspelt or new ones included
    settings.HARBOR_ENVIRONMENT = environment
    args = {"demo_otp": ["anybody"], "seed_scale": ["--size", "tiny", "--quiet"]}.get(command, [])

    # when / then: the guard fails closed, before touching the database
    with pytest.raises(CommandError, match="production"):
        call_command(command, *args, stdout=StringIO())
    assert not User.objects.exists()


def test_seed_demo_refuses_production(settings):
    # given
    settings.HARBOR_ENVIRONMENT = "production"

    # when / then
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()
    assert not Agency.objects.exists()


def test_seed_demo_users_is_idempotent():
    # given
    call_command("bootstrap", stdout=StringIO())

    # when
    first = seed_demo_users()
    second = seed_demo_users()

    # then
    assert first == second
    assert User.objects.count() == 4 * len(DEMO_ROLES) + 1
    sysadmin = User.objects.get(username="sysadmin")
    assert (sysadmin.is_superuser, sysadmin.role, sysadmin.is_staff) == (True, "system_admin", True)
