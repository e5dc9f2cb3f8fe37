"""What a notification says: subject, text and HTML email, Pacific times.

Nothing identifying, by construction: the only inputs are the rule's name and legal source, the
stage, the case or referral number (or an MDT team code and meeting id), a time and a link made
of ids. No youth, no names, no narrative ever reaches these templates.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

PACIFIC = ZoneInfo("America/Los_Angeles")
SUBJECT_PREFIX = "[Safe Harbor]"

#: The rule code of a supervisor's daily digest notification (not a deadline rule).
DIGEST_RULE = "daily_digest"
STATUS_WORDS = {"open": "due", "missed": "overdue"}

STAGE_WORDS = {"upcoming": "Upcoming", "due": "Due now", "overdue": "Overdue"}
NOTICE_WORDS = {"published": "Agenda published", "changed": "Agenda changed"}


def pacific(value: dt.datetime | None) -> str:
    """'Mon Mar 9, 2026 9:00 AM PDT' — the edge format; storage and arithmetic stay in UTC."""
    if value is None:
        return ""
    local = value.astimezone(PACIFIC)
    hour = local.hour % 12 or 12
    return f"{local:%a %b} {local.day}, {local.year} {hour}:{local:%M %p %Z}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def reminder_subject(*, stage: str, rule_name: str, reference: str) -> str:
    """e.g. '[Safe Harbor] Upcoming: written report due — Referral R-123'."""
    return f"{SUBJECT_PREFIX} {STAGE_WORDS.get(stage, stage.title())}: {_lower_first(rule_name)} — {reference}"


def notice_subject(*, event: str, reference: str) -> str:
    """e.g. '[Safe Harbor] Agenda published — STAR meeting M-12'."""
    return f"{SUBJECT_PREFIX} {NOTICE_WORDS.get(event, 'Agenda update')} — {reference}"


def digest_subject(*, count: int, agency_code: str) -> str:
    """e.g. '[Safe Harbor] Daily digest: 3 outstanding deadlines — DCFS'."""
    noun = "deadline" if count == 1 else "deadlines"
    return f"{SUBJECT_PREFIX} Daily digest: {count} outstanding {noun} — {agency_code}"


def digest_line(*, rule_name: str, reference: str, due_at: dt.datetime, status: str) -> dict[str, str]:
    """One line of a digest, non-identifying by construction (what the lines are made of)."""
    return {"rule_name": rule_name, "reference": reference, "due_at": due_at.isoformat(), "status": status}


def absolute_link(path: str) -> str:
    return f"{settings.HARBOR_BASE_URL.rstrip('/')}{path}" if path else ""


def _message_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "safeharbor.invalid"


def build_email(
    *, notification: Any, rule: Any | None, to: str | None = None, lines: list[dict[str, str]] | None = None
) -> EmailMultiAlternatives:
    """The email for one notification: text and HTML from the same context.

    The Message-ID is derived from the notification id, so the rare re-send after a crash
    between the mail server's acceptance and our commit carries the same Message-ID, which
    mail servers and clients use to drop duplicates. `rule`: anything with `name` and
    `legal_source` (or None); `to`: the address, when it was read with the claim (default: the
    recipient's); `lines`: a daily digest's lines (see `digest_line`).
    """
    digest = [
        {
            "rule_name": line["rule_name"],
            "reference": line["reference"],
            "due_local": pacific(dt.datetime.fromisoformat(line["due_at"])),
            "overdue": line["status"] == "missed",
        }
        for line in lines or []
    ]
    context = {
        "stage": notification.stage,
        "stage_word": STAGE_WORDS.get(notification.stage, ""),
        "subject": notification.subject,
        "reference": notification.reference,
        "rule_name": rule.name if rule is not None else "",
        "legal_source": rule.legal_source if rule is not None else "",
        "due_local": pacific(notification.due_at),
        "link": notification.link,
        "is_notice": notification.stage == "notice",
        "is_escalation": notification.reason == "escalation",
        "digest": digest,
    }
    template = "digest" if lines is not None else "notification"
    text = render_to_string(f"notifications/email/{template}.txt", context)
    html = render_to_string(f"notifications/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        to=[to if to is not None else notification.recipient.email],
        headers={
            "X-Harbor-Notification": str(notification.pk),
            "Message-ID": f"<harbor-notification-{notification.pk}@{_message_domain()}>",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
