"""Fixtures for the MDT tests: the two teams from bootstrap, their people, and a recorder of the
calls mdt/ makes into notifications/ (which still run for real)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

from accounts.models import Agency
from core.permissions import Role
from mdt.bootstrap import run as bootstrap_run
from mdt.models import MDTTeam
from mdt.services.teams import team_member_add
from tests.factories import AgencyFactory, UserFactory
from tests.mdt.support import T0


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def teams(db) -> dict[str, MDTTeam]:  # type: ignore[no-untyped-def]
    bootstrap_run()
    return {team.code: team for team in MDTTeam.objects.all()}


@pytest.fixture
def star(teams):  # type: ignore[no-untyped-def]
    return teams["STAR"]


@pytest.fixture
def dream(teams):  # type: ignore[no-untyped-def]
    return teams["DREAM"]


@pytest.fixture
def people(agencies, teams, system_admin):  # type: ignore[no-untyped-def]
    """STAR: a Probation coordinator, a district attorney, a DMH clinician (case worker).
    DREAM: a DCFS coordinator and a DCFS member. Plus people on no team and the admin roles."""
    da = AgencyFactory(code="DA", name="District Attorney", kind=Agency.Kind.PROSECUTION)
    p = SimpleNamespace(
        star_coordinator=UserFactory(username="star_coord", agency=agencies["PROBATION"], role=Role.MDT_MEMBER),
        da_member=UserFactory(
            username="da_member", agency=da, role=Role.MDT_MEMBER, first_name="Dana", last_name="Attorney"
        ),
        dmh_clinician=UserFactory(username="dmh_clinician", agency=agencies["DMH"], role=Role.CASE_WORKER),
        dream_coordinator=UserFactory(username="dream_coord", agency=agencies["DCFS"], role=Role.MDT_MEMBER),
        dream_member=UserFactory(username="dream_member", agency=agencies["DCFS"], role=Role.MDT_MEMBER),
        outsider=UserFactory(username="outsider_mdt", agency=agencies["SHERIFF"], role=Role.MDT_MEMBER),
        case_worker=UserFactory(username="plain_worker", agency=agencies["DCFS"], role=Role.CASE_WORKER),
        agency_admin=UserFactory(username="dcfs_agency_admin", agency=agencies["DCFS"], role=Role.AGENCY_ADMIN),
        auditor=UserFactory(username="auditor", agency=agencies["DCFS"], role=Role.AUDITOR),
        system_admin=system_admin,
        da=da,
        agencies=agencies,
    )
    star, dream = teams["STAR"], teams["DREAM"]
    team_member_add(team=star, user=p.star_coordinator, is_coordinator=True, actor=system_admin)
    team_member_add(team=star, user=p.da_member, actor=system_admin)
    team_member_add(team=star, user=p.dmh_clinician, actor=system_admin)
    team_member_add(team=dream, user=p.dream_coordinator, is_coordinator=True, actor=system_admin)
    team_member_add(team=dream, user=p.dream_member, actor=system_admin)
    return p


class NotifyRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for called, kwargs in self.calls if called == name]


@pytest.fixture
def notify_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """Records every call mdt/ makes into notifications' services, then makes it for real."""
    from notifications.services import deadlines, notices

    recorder = NotifyRecorder()
    for name in ("deadline_open", "deadline_meet", "deadline_cancel", "meeting_members_notify"):
        module = notices if name == "meeting_members_notify" else deadlines
        original = getattr(module, name)

        def wrapper(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            recorder.calls.append((_name, kwargs))
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)
    return recorder
