"""Agenda exports (SPEC §4): the printable PDF and the iCalendar events.

The PDF is rendered from a Django template by WeasyPrint with a URL fetcher that refuses every
URL (no network, no file reads) and the system's fonts. Calendar events carry the team, the
time and the place — never case details.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import logging
from collections.abc import Iterable
from typing import Any, NoReturn

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from icalendar import Calendar, Event
from pypdf import PdfReader, PdfWriter

from cases import crypto
from cases.models import Case, SafetyAlert
from notifications import messages

from .models import AgendaItem, AgendaRendering, Meeting
from .selectors import PACIFIC

CONFIDENTIALITY_HEADING = "Confidential — WIC 827/830, do not redisclose"
logger = logging.getLogger(__name__)

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

        def fetch(self, url: str, headers: Any = None) -> NoReturn:
            raise ValueError("external resources are not fetched")

    return RefusingURLFetcher()


def _pacific(value: dt.datetime | None, fmt: str = "%a %b %d, %Y %I:%M %p %Z") -> str:
    return value.astimezone(PACIFIC).strftime(fmt) if value else ""


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


#: Deadline rows the printed agenda shows another way: an action item's due date is on its own
#: line under "Open action items", and the sharing renewal is one line naming the agencies.
ACTION_ITEM_RULE = "action_item_due"
SHARING_RENEWAL_RULE = "sharing_renewal_30d"
SEPARATORS = " :;,-–—"


def alert_text(kind_label: str, summary: str) -> str:
    """The alert's summary without its type when the summary opens with it ("Known exploiter:
    do not disclose…" under the label "Known exploiter" reads "do not disclose…")."""
    text = (summary or "").strip()
    if kind_label and text.lower().startswith(kind_label.lower()):
        rest = text[len(kind_label) :]
        if not rest or rest[0] in SEPARATORS:
            stripped = rest.lstrip(SEPARATORS)
            return stripped[:1].upper() + stripped[1:] if stripped else ""
    return text


def _overdue(due: dt.datetime | None, status: str, meeting: Meeting) -> bool:
    """Overdue on the meeting day: already missed, or due by the time the meeting starts."""
    return status == "missed" or (due is not None and due <= meeting.starts_at)


def _overview(meeting: Meeting, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item's start time: the meeting's start plus the minutes allotted to the live items
    before it (a withdrawn item is not discussed and takes no time)."""
    at = meeting.starts_at
    rows = []
    for item in items:
        rows.append({**item, "start": "" if item["withdrawn"] else _pacific(at, "%I:%M %p")})
        if not item["withdrawn"]:
            at += dt.timedelta(minutes=item["minutes_allotted"] or 0)
    return rows


def _printed_by(user: Any) -> str:
    if user is None:
        return "Safe Harbor"
    name = user.get_full_name() or user.get_username()
    agency = getattr(getattr(user, "agency", None), "code", "")
    return f"{name} ({agency})" if agency else name


def _live_entry(entry: dict[str, Any], meeting: Meeting, renewals: list[dict[str, Any]]) -> dict[str, Any]:
    deadlines = [
        {**d, "due": _pacific(d.get("due_at")), "overdue": _overdue(d.get("due_at"), d.get("status", ""), meeting)}
        for d in entry["open_deadlines"]
        if d.get("rule") not in (ACTION_ITEM_RULE, SHARING_RENEWAL_RULE)
    ]
    renewal_rows = [d for d in entry["open_deadlines"] if d.get("rule") == SHARING_RENEWAL_RULE]
    sharing = None
    if renewal_rows or renewals:
        # One line for the case's renewal clocks, naming each agency whose sharing runs out.
        parts = [
            {
                "agency": r["agency"],
                "due": _pacific(r["expires_at"], "%b %d, %Y"),
                "overdue": _overdue(r["expires_at"], "", meeting),
            }
            for r in renewals
        ]
        sharing = {
            "agencies": parts,
            "overdue": any(p["overdue"] for p in parts)
            or any(_overdue(d.get("due_at"), d.get("status", ""), meeting) for d in renewal_rows),
            "due": "" if parts else _pacific(min((d["due_at"] for d in renewal_rows if d.get("due_at")), default=None)),
        }
    return {
        **entry,
        "reason_label": _label(AgendaItem.Reason, entry["reason"]),
        "csec_status_label": _label(Case.CsecStatus, entry["csec_status"]),
        "safety_alerts": [
            {
                **a,
                "kind_label": (label := _label(SafetyAlert.Kind, a["kind"])),
                "text": alert_text(label, a["summary"]),
            }
            for a in entry["safety_alerts"]
        ],
        "open_deadlines": deadlines,
        "sharing_renewal": sharing,
        "open_action_items": [
            {**a, "due": _pacific(a["due_at"]), "overdue": _overdue(a["due_at"], "", meeting)}
            for a in entry["open_action_items"]
        ],
        "last_review": (
            {**entry["last_review"], "when": _pacific(entry["last_review"]["meeting_starts_at"], "%b %d, %Y")}
            if entry["last_review"]
            else None
        ),
    }


def agenda_pdf(
    *,
    meeting: Meeting,
    view: list[dict[str, Any]],
    printed_by: Any = None,
    printed_at: dt.datetime | None = None,
) -> bytes:
    """The printed agenda (SPEC §4): an overview with each item's start time, each case's agenda
    view (each action item once, one sharing-renewal line naming the agencies, deadlines overdue
    on the meeting day marked), and an attendance sheet; the footer names who printed it and
    when (Pacific time). `printed_by` is the user asking for it.

    The pages are laid out once for what they show (`agenda_rendering`; laid out ahead when the
    agenda is published or changed, `agenda_pages_prepare`) and the footer, the only part that
    differs from reader to reader, is stamped onto each."""
    printed_at = printed_at or timezone.now()
    footer = render_to_string(
        "mdt/agenda_footer.html",
        {
            "meeting": meeting,
            "team": meeting.team,
            "printed": f"Printed by {_printed_by(printed_by)} on {_pacific(printed_at, '%b %d, %Y %I:%M %p %Z')}",
        },
    )
    return _stamped(agenda_pages(meeting=meeting, view=view), _render(footer))


def agenda_pages(*, meeting: Meeting, view: list[dict[str, Any]]) -> bytes:
    """The agenda's pages without the footer: the stored rendering when nothing on them changed."""
    from . import selectors

    renewals = selectors.sharing_renewals_for_cases(case_ids=[e["case"] for e in view if not e["withdrawn"]])
    items = [
        {**entry, "reason_label": _label(AgendaItem.Reason, entry["reason"])}
        if entry["withdrawn"]
        else _live_entry(entry, meeting, renewals.get(entry["case"], []))
        for entry in view
    ]
    context = {
        "heading": CONFIDENTIALITY_HEADING,
        "meeting": meeting,
        "team": meeting.team,
        "starts": _pacific(meeting.starts_at),
        "ends": _pacific(meeting.ends_at, "%I:%M %p %Z"),
        "items": _overview(meeting, items),
        "attendance": selectors.attendance_sheet(meeting=meeting, view=view),
    }
    return agenda_rendering(meeting=meeting, html=render_to_string("mdt/agenda.html", context))


#: Meetings whose agenda members print: laid out ahead of their first print.
PREPARED_STATUSES = (Meeting.Status.PUBLISHED, Meeting.Status.HELD)


def agenda_pages_prepare(*, meeting_id: int) -> bool:
    """Lay out a published agenda's pages ahead of its first print (the task run after
    publishing and after each change): the members who open the PDF from the notice then get
    the stored rendering, stamped. Nothing is shown to anyone, so nothing is audited; the agenda
    view is the one every member reads (it does not depend on the reader). False when the
    meeting is gone or not published."""
    from . import selectors

    meeting = Meeting.objects.select_related("team").filter(pk=meeting_id).first()
    if meeting is None or meeting.status not in PREPARED_STATUSES:
        return False
    agenda_pages(meeting=meeting, view=selectors.agenda_view(user=None, meeting=meeting))
    return True


def agenda_pages_prepare_on_commit(meeting: Meeting) -> None:
    """After the caller's transaction commits, have a worker lay the agenda out
    (HARBOR_AGENDA_PDF_PREPARE, on by default; the test settings turn it off so every publish
    in the suite does not render a PDF). A broker that is down costs only the head start."""
    if not getattr(settings, "HARBOR_AGENDA_PDF_PREPARE", True):
        return

    def enqueue() -> None:
        from .tasks import agenda_pages_prepare_task

        try:
            agenda_pages_prepare_task.apply_async(args=[meeting.pk])
        except Exception as exc:  # the broker: the first print lays it out instead
            logger.warning("agenda pages of meeting %s not prepared (%s)", meeting.pk, type(exc).__name__)

    transaction.on_commit(enqueue, robust=True)


def _render(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_refusing_fetcher()).write_pdf()


def _fingerprint(html: str) -> str:
    return hmac.new(crypto.blind_index_key(), html.encode(), hashlib.sha256).hexdigest()


def agenda_rendering(*, meeting: Meeting, html: str) -> bytes:
    """The PDF of the agenda's page HTML: the meeting's stored rendering when it was made from
    the same HTML (and can still be decrypted), else a new one, stored in its place.

    Two readers printing a changed agenda at once both render it; the second write loses the
    race harmlessly (a savepoint keeps the request's transaction usable)."""
    fingerprint = _fingerprint(html)
    stored = AgendaRendering.objects.filter(meeting=meeting).only("fingerprint", "pdf").first()
    if stored is not None and hmac.compare_digest(stored.fingerprint, fingerprint):
        try:
            return crypto.fernet().decrypt(bytes(stored.pdf))
        except InvalidToken:
            logger.info("agenda rendering for meeting %s: not readable with the current keys", meeting.pk)
    pdf = _render(html)
    fields = {"fingerprint": fingerprint, "pdf": crypto.fernet().encrypt(pdf), "rendered_at": timezone.now()}
    if stored is not None:
        AgendaRendering.objects.filter(pk=stored.pk).update(**fields)
        return pdf
    try:
        with transaction.atomic():
            AgendaRendering.objects.create(meeting=meeting, **fields)
    except IntegrityError:
        logger.info("agenda rendering for meeting %s: stored by a concurrent print", meeting.pk)
    return pdf


def _stamped(pages: bytes, footer: bytes) -> bytes:
    """`footer`'s single page laid over each page of `pages` (pypdf: a merge of content streams,
    ~25 ms for ten pages where laying the agenda out again takes ~1 s)."""
    stamp = PdfReader(io.BytesIO(footer)).pages[0]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pages)))
    for page in writer.pages:
        page.merge_page(stamp)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
