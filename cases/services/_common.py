"""What every write of this package shares (private to `cases.services`): the refusal error,
saving with the acting user on the history row, the audit event, the row lock, the case-role
gate, and the rule that a stated fact time is never in the future nor before the event that
started its clock (SPEC §2 "Fact times")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db.models import Model
from django.utils import timezone

from audit.models import AuditEvent
from audit.services.record import audit_record
from core.errors import ApplicationError
from core.permissions import CASE_ROLES, role_of

Action = AuditEvent.Action

_M = TypeVar("_M", bound=Model)


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="forbidden")


def _save(obj: Any, *, actor: Any, **kwargs: Any) -> None:
    """Save, recording `actor` as the author of the history row (outside a request too)."""
    obj._history_user = actor if getattr(actor, "pk", None) else None  # noqa: SLF001 - simple-history's (documented) history-author attribute
    obj.save(**kwargs)


def _audit(actor: Any, action: str, object_type: str, obj: Any, youth_id: int | None, **detail: Any) -> None:
    audit_record(
        actor=actor, action=action, object_type=object_type, object_id=obj.pk, youth_id=youth_id, detail=detail
    )


def _lock(model: type[_M], pk: int) -> _M:
    # The default manager is `objects` (no model here declares another).
    return model._default_manager.select_for_update().get(pk=pk)  # noqa: SLF001 - Django's public Model._default_manager API


def _require_case_role(actor: Any) -> None:
    if role_of(actor) not in CASE_ROLES or not actor.agency_id or not actor.is_active:
        raise _forbidden("Your role has no access to case data.")


#: How far ahead of our clock a stated fact time may be (a device clock a little fast); beyond
#: it the fact has not happened yet (SPEC §2 "Fact times").
FACT_TIME_LEEWAY = dt.timedelta(minutes=5)


def _fact_time_errors(
    values: Mapping[str, Any], *, words: Mapping[str, str], not_before: Mapping[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Field messages for the times in `values` that cannot be true: in the future (beyond
    FACT_TIME_LEEWAY), or before an event that must come first. The messages say what to send
    and carry no value."""
    latest = timezone.now() + FACT_TIME_LEEWAY
    errors: dict[str, list[str]] = {}
    for name, what in words.items():
        value = values.get(name)
        if value is None:
            continue
        if value > latest:
            errors[name] = [f"Send {what} as it happened: it cannot be in the future."]
            continue
        for earlier in not_before.get(name, ()):
            start = values.get(earlier)
            if start is not None and value < start:
                errors[name] = [f"Send {what}: it cannot be before {earlier} ({words.get(earlier, earlier)})."]
                break
    return errors
