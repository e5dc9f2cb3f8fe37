"""Template helpers of the Reports pages (issue 17): who is shown the Reports link."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def may_read_reports(user: Any) -> bool:
    """The roles the API's reports answer (web.views.reports)."""
    from web.views.reports import may_read_reports as _may_read_reports

    return _may_read_reports(user)
