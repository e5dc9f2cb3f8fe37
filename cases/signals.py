"""Case events other apps react to (cases may not import them: CONTRIBUTING "Layers").

Sent inside the transaction of the change, synchronously: a receiver's writes commit or roll
back with it, and a receiver that fails fails the change. Receivers take keyword arguments.

- `case_closed(case, actor)` — the case has just been closed (mdt cancels its open action
  items and takes it off unpublished agendas).
- `case_court_changed(case, old_court, new_court, actor)` — the case's `court` changed or was
  cleared (mdt takes it off the old court's unpublished agendas and shows it as withdrawn on
  the published ones).
"""

from __future__ import annotations

from django.dispatch import Signal

case_closed = Signal()
case_court_changed = Signal()
