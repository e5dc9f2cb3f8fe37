"""What mdt does when a case changes (signals sent by cases, which may not import mdt). Each
receiver runs in the transaction of the case's change: its writes commit or roll back with it.
Connected in `MdtConfig.ready()`."""

from __future__ import annotations

from typing import Any

from cases import signals
from cases.models import Case

from .services import action_items, agenda

CASE_CLOSED = "case closed"


def on_case_closed(*, case: Case, actor: Any, **_: Any) -> None:
    """SPEC §2: closing cancels the case's open action items (reason "case closed") and takes it
    off the agendas not yet published; a published agenda keeps it (the team may discuss it)."""
    action_items.action_items_cancel_for_case(case_id=case.pk, actor=actor, reason=CASE_CLOSED)
    agenda.agenda_case_leave_unpublished(case=case, actor=actor, why="case_closed")


def on_case_court_changed(*, case: Case, old_court: str, new_court: str, actor: Any, **_: Any) -> None:
    """SPEC §4: the case leaves the old court's unpublished agendas; a published one shows it as
    withdrawn, without its agenda view. Setting the court back restores nothing by itself."""
    if old_court and old_court != new_court:
        agenda.agenda_case_withdraw(case=case, actor=actor, why="court_changed", court=old_court)


def connect() -> None:
    signals.case_closed.connect(on_case_closed, sender=Case, dispatch_uid="mdt.case_closed")
    signals.case_court_changed.connect(on_case_court_changed, sender=Case, dispatch_uid="mdt.case_court_changed")
