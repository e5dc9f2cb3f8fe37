"""Deadline rules in the Django admin: a system admin edits them; no one else; no case data."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.test import Client

from audit.models import AuditEvent
from notifications.models import Deadline, DeadlineRule, Notification

RULES = "/admin/notifications/deadlinerule/"


def _browser(user) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_system_admin_edits_a_rule(cast):
    rule = DeadlineRule.objects.get(code="written_report_36h")
    browser = _browser(cast.system_admin)
    assert browser.get(RULES).status_code == 200
    form = browser.get(f"{RULES}{rule.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data.update({"offset": "1 06:00:00", "overdue_after": "00:30:00", "upcoming_fraction": "0.5"})
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}

    response = browser.post(f"{RULES}{rule.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rule.refresh_from_db()
    assert (rule.offset, rule.overdue_after, rule.upcoming_fraction) == (
        dt.timedelta(hours=30),
        dt.timedelta(minutes=30),
        0.5,
    )
    assert rule.code == "written_report_36h" and rule.legal_default == "+36 hours"  # read-only
    assert AuditEvent.objects.filter(
        object_type="deadline_rule", object_id=str(rule.pk), actor_id=cast.system_admin.pk
    ).exists()


def test_an_agency_admin_cannot_see_the_rules(cast):
    browser = _browser(cast.agency_admin)
    assert browser.get(RULES).status_code == 403
    assert "deadlinerule" not in browser.get("/admin/").content.decode()


def test_no_case_data_in_the_admin():
    registered = admin.site._registry
    assert DeadlineRule in registered
    assert Deadline not in registered and Notification not in registered
    assert not admin.site._registry[DeadlineRule].has_delete_permission(None)
