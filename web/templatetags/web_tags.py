"""Template helpers: times in Pacific time (SPEC §3: stored in UTC, shown in Los Angeles time),
and the USWDS field markup."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone

register = template.Library()
PACIFIC = ZoneInfo("America/Los_Angeles")


@register.filter
def pacific(value: Any) -> str:
    """'Dec 1, 2026, 9:30 AM PST' — always Pacific, whatever the server's zone."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    local = timezone.localtime(value, PACIFIC)
    return f"{local:%b} {local.day}, {local.year}, {local:%I:%M %p %Z}".replace(", 0", ", ")


@register.filter
def iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else ""


@register.inclusion_tag("web/partials/field.html")
def field(bound: Any, hint: str = "") -> dict[str, Any]:
    """One form field in the USWDS pattern: label (required ones marked), hint, the message
    at the field, and the input (aria-describedby pointing at hint and message)."""
    return {"field": bound, "hint": hint or bound.help_text, "widget_type": bound.widget_type}


@register.simple_tag
def describedby(bound: Any, hint: str = "") -> str:
    ids = []
    if hint or bound.help_text:
        ids.append(f"{bound.auto_id}-hint")
    if bound.errors:
        ids.append(f"{bound.auto_id}-error")
    return " ".join(ids)


@register.filter
def is_case_role(user: Any) -> bool:
    from core.permissions import is_case_role as _is_case_role

    return _is_case_role(user)


@register.filter
def may_sit_on_team(user: Any) -> bool:
    from mdt.permissions import may_sit_on_team as _may_sit_on_team

    return _may_sit_on_team(user)


@register.filter
def words(value: Any) -> str:
    """'referral_received' → 'Referral received'."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]
