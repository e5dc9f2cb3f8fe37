"""Agenda exports (SPEC §4): the printable PDF and the iCalendar events.

The PDF is rendered from a Django template by WeasyPrint with a URL fetcher that refuses every
URL (no network, no file reads) and the system's fonts. Calendar events carry the team, the
time and the place — never case details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.template.loader import render_to_string
from icalendar import Calendar, Event

from cases.models import Case, SafetyAlert
from notifications import messages

from .models import AgendaItem, Meeting
from .selectors import PACIFIC

CONFIDENTIALITY_HEADING = "Confidential — WIC 827/830, do not redisclose"
PRODID = "-//Safe Harbor//MDT meetings//EN"
UID_DOMAIN = "safe-harbor.mdt"

ICS_STATUS = {
    Meeting.Status.SCHEDULED: "TENTATIVE",
    Meeting.Status.PUBLISHED: "CONFIRMED",
    Meeting.Status.HELD: "CONFIRMED",
    Meeting.Status.MINUTES_FINAL: "CONFIRMED",
    Meeting.Status.CANCELLED: "CANCELLED",
}


# --- PDF ------------------------------------------------------------------------------------------


def _refusing_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class RefusingURLFetcher(URLFetcher):
        """The agenda needs nothing from outside: every URL is refused, so a stray reference
        (an image, a stylesheet, a font) can never reach the network or the file system."""

        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
            raise ValueError("external resources are not fetched")

    return RefusingURLFetcher()


def _pacific(value: dt.datetime | None, fmt: str = "%a %b %d, %Y %I:%M %p %Z") -> str:
    return value.astimezone(PACIFIC).strftime(fmt) if value else ""


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def agenda_pdf(*, meeting: Meeting, view: list[dict[str, Any]]) -> bytes:
    from weasyprint import HTML

    items = []
    for entry in view:
        if entry["withdrawn"]:
            items.append({**entry, "reason_label": _label(AgendaItem.Reason, entry["reason"])})
            continue
        items.append(
            {
                **entry,
                "reason_label": _label(AgendaItem.Reason, entry["reason"]),
                "csec_status_label": _label(Case.CsecStatus, entry["csec_status"]),
                "safety_alerts": [
                    {**a, "kind_label": _label(SafetyAlert.Kind, a["kind"])} for a in entry["safety_alerts"]
                ],
                "open_deadlines": [{**d, "due": _pacific(d.get("due_at"))} for d in entry["open_deadlines"]],
                "open_action_items": [{**a, "due": _pacific(a["due_at"])} for a in entry["open_action_items"]],
                "last_review": (
                    {**entry["last_review"], "when": _pacific(entry["last_review"]["meeting_starts_at"], "%b %d, %Y")}
                    if entry["last_review"]
                    else None
                ),
            }
        )
    html = render_to_string(
        "mdt/agenda.html",
        {
            "heading": CONFIDENTIALITY_HEADING,
            "meeting": meeting,
            "team": meeting.team,
            "starts": _pacific(meeting.starts_at),
            "ends": _pacific(meeting.ends_at, "%I:%M %p %Z"),
            "items": items,
        },
    )
    return HTML(string=html, base_url=None, url_fetcher=_refusing_fetcher()).write_pdf()


# --- iCalendar ------------------------------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def agenda_page_path(meeting: Meeting) -> str:
    """The web app's page for the meeting's agenda (SPEC §7)."""
    return f"/mdt/meetings/{meeting.pk}/"


def meeting_event(meeting: Meeting) -> Event:
    """One VEVENT: a stable UID (the meeting's own UUID), UTC times, no case details."""
    event = Event()
    event.add("uid", f"mdt-meeting-{meeting.uid}@{UID_DOMAIN}")
    # DTSTAMP follows the last change, so an unchanged meeting downloads byte-for-byte the same.
    event.add("dtstamp", _utc(meeting.updated_at))
    event.add("dtstart", _utc(meeting.starts_at))
    event.add("dtend", _utc(meeting.ends_at))
    event.add("sequence", meeting.sequence)
    event.add("summary", f"{meeting.team.name} meeting")
    if meeting.location:
        event.add("location", meeting.location)
    # The agenda page of the web app (it asks the person to sign in): ids only, as emails link.
    link = messages.absolute_link(agenda_page_path(meeting))
    event.add("url", link)
    event.add("description", f"The agenda is in Safe Harbor: {link}")
    event.add("status", ICS_STATUS[meeting.status])
    event.add("class", "CONFIDENTIAL")
    return event


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def meeting_ics(*, meeting: Meeting) -> bytes:
    cal = _calendar(f"{meeting.team.name} meeting")
    cal.add_component(meeting_event(meeting))
    return cal.to_ical()


def feed_ics(*, meetings: Iterable[Meeting]) -> bytes:
    cal = _calendar("Safe Harbor MDT meetings")
    for meeting in meetings:
        cal.add_component(meeting_event(meeting))
    return cal.to_ical()
