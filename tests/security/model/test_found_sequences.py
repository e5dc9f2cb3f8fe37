"""The shortest sequences the model-based test found where the product and SPEC §1 disagreed,
kept as fixed regressions (each runs in seconds; the random search may not meet them again).

Each is the state machine driven by hand: the same steps, the same check after every step."""

from __future__ import annotations

from typing import Any

import pytest

from . import test_model_based
from .harness import build_people
from .test_model_based import Visibility

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _every_rule_of_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    """These sequences are SPEC's, whatever HARBOR_MODEL_OFF says for the random search."""
    monkeypatch.setattr(test_model_based, "feature", lambda name: True)


# Indices into each rule's list of moves (see the `*_moves` methods); the people are made in the
# order DMH, DCFS, PROBATION and, in each, the case worker before the supervisor.
DCFS_WORKER, PROBATION_WORKER = 2, 4


def _run(*steps: tuple[str, dict[str, Any]]) -> None:
    Visibility.people = build_people()
    machine = Visibility()
    try:
        machine.everyone_sees_what_spec_section_1_says()
        for name, arguments in steps:
            getattr(machine, name)(**arguments)
            machine.everyone_sees_what_spec_section_1_says()
    finally:
        machine.teardown()


def test_accepting_a_re_referral_shares_nothing_with_the_accepting_agency() -> None:
    """DCFS leads the youth's case; Probation's worker refers the same youth to Probation and a
    Probation supervisor accepts: Probation sees nothing of the case (a share request waits for
    DCFS). Found on the code before share requests: Probation got an 18961.7 share by accepting."""
    _run(
        ("refer_a_new_youth", {"which": DCFS_WORKER, "receiving": "DCFS", "days_ago": 0}),
        ("accept", {"which": 0}),
        ("refer_a_known_youth", {"which": PROBATION_WORKER, "receiving": "PROBATION", "days_ago": 0}),
        ("accept", {"which": 0}),
    )


def test_an_18961_7_share_ends_30_days_after_the_report() -> None:
    """The report is 20 days old when DCFS shares the case with DMH under WIC 18961.7: 16 days
    later DMH sees nothing. Found on the code before: the 30 days counted from the grant."""
    _run(
        ("refer_a_new_youth", {"which": DCFS_WORKER, "receiving": "DCFS", "days_ago": 20}),
        ("accept", {"which": 0}),
        ("grant", {"which": 0, "days": 1}),  # DMH, mdt_18961_7
        ("time_passes", {"days": 16}),
    )


def test_a_court_mdt_share_ends_when_the_court_changes() -> None:
    """DCFS's case is on STAR; DCFS shares it with DMH as court_mdt; the case moves to DREAM: DMH
    sees nothing. Found on the code before AND after share requests: the share outlives the court."""
    _run(
        ("refer_a_new_youth", {"which": DCFS_WORKER, "receiving": "DCFS", "days_ago": 0}),
        ("accept", {"which": 0}),
        ("set_court", {"which": 0}),  # STAR
        ("grant", {"which": 2, "days": 1}),  # DMH, court_mdt
        ("set_court", {"which": 0}),  # DREAM
    )
