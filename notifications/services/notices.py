"""Notices that are not deadlines (SPEC §3 "Notifications"): an in-app inbox entry and, unless
the person turned that kind off, an email — delivered by the same machinery as the reminders
(pending row, send task enqueued after commit, retries, redelivery). Nothing identifying by
construction: the caller gives a notice kind, a few fixed words, a reference such as a case
number and a link made of ids.

INTERFACE CONTRACT (mdt/ and cases/ call these inside their own transactions; keep the
signatures): `meeting_members_notify`, `users_notify`."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services.record import audit_record

from .. import messages
from ..models import Notification
from ..selectors import email_opt_outs, team_member_users
from .delivery import _email_wanted, _enqueue_sends, _new_notification

#: Notification kind for MDT agenda notices (not a deadline).
AGENDA_NOTICE = "mdt_agenda"
#: Notification.subject holds 200 characters.
SUBJECT_MAX = 200


#: Subject words per agenda event (messages.NOTICE_WORDS, plus the cancellation).
AGENDA_EVENT_WORDS = {**messages.NOTICE_WORDS, "cancelled": "Meeting cancelled"}


@transaction.atomic
def meeting_members_notify(
    *,
    meeting: Any,
    event: str,
    actor: Any,
    recipients: Iterable[Any] | None = None,
    change_words: str = "",
) -> int:
    """Tell the members of the meeting's team that its agenda was `published` or `changed`, or
    that the meeting was `cancelled` (in-app + email, no case details). `actor`: who did it
    (None for a batched notice sent by a task); mdt/ leaves them out of `recipients` for a
    change (SPEC §4: never sent to the person who made the change). `recipients`: only these users
    (mdt/ batches the change notices and says who is due one); default: every member.
    `change_words` say what changed, e.g. "time from … to …; items" (SPEC §4). Returns how
    many notifications were created."""
    if event not in AGENDA_EVENT_WORDS:
        raise ValueError(f"unknown agenda event {event!r}")
    team = meeting.team
    members = list(recipients) if recipients is not None else team_member_users(team_id=team.pk)
    members = [u for u in members if getattr(u, "is_active", False)]
    if not members:
        return 0
    now = timezone.now()
    reference = f"{team.code} meeting M-{meeting.pk}"
    words = AGENDA_EVENT_WORDS[event] + (f": {change_words}" if change_words else "")
    subject = f"{messages.SUBJECT_PREFIX} {words} — {reference}"
    if len(subject) > SUBJECT_MAX:
        subject = messages.notice_subject(event=event, reference=reference)
    opt_outs = email_opt_outs(user_ids=[u.pk for u in members])
    rows = [
        _new_notification(
            user=user,
            reason=Notification.Reason.MEMBER,
            rule_code=AGENDA_NOTICE,
            stage=Notification.Stage.NOTICE,
            email=_email_wanted(user, AGENDA_NOTICE, Notification.Stage.NOTICE, opt_outs),
            now=now,
            subject=subject,
            reference=reference,
            due_at=meeting.starts_at,
            link=messages.absolute_link(f"/app/mdt/meetings/{meeting.pk}/"),
            meeting_id=meeting.pk,
        )
        for user in members
    ]
    created = Notification.objects.bulk_create(rows)
    pending = [n.pk for n in created if n.delivery_status == Notification.Delivery.PENDING and n.pk]
    if len(pending) < sum(1 for n in created if n.delivery_status == Notification.Delivery.PENDING):
        # A backend that does not return ids on bulk insert: the redeliver step enqueues them.
        pending = []
    if pending:
        transaction.on_commit(partial(_enqueue_sends, pending), robust=True)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        object_type="meeting_notice",
        object_id=meeting.pk,
        detail={"event": event, "recipients": len(rows)},
    )
    return len(rows)


@transaction.atomic
def users_notify(
    *,
    users: Iterable[Any],
    kind: str,
    subject_words: str,
    reference: str,
    link_path: str,
    actor: Any,
    object_type: str,
    object_id: Any,
    case_id: int | None = None,
) -> int:
    """Tell each (active) user in `users` about `reference` (e.g. "Case H-2026-000123"): one
    notification each, kind `kind` (a key of rules.NOTICE_KINDS), stage `notice`. Returns how
    many were created; the audit event names the object and the number of recipients only."""
    recipients = [u for u in users if getattr(u, "is_active", False)]
    if not recipients:
        return 0
    now = timezone.now()
    opt_outs = email_opt_outs(user_ids=[u.pk for u in recipients])
    rows = [
        _new_notification(
            user=user,
            reason=Notification.Reason.RESPONSIBLE,
            rule_code=kind,
            stage=Notification.Stage.NOTICE,
            email=_email_wanted(user, kind, Notification.Stage.NOTICE, opt_outs),
            now=now,
            subject=f"{messages.SUBJECT_PREFIX} {subject_words} — {reference}",
            reference=reference,
            due_at=None,
            link=messages.absolute_link(link_path),
            case_id=case_id,
        )
        for user in recipients
    ]
    created = Notification.objects.bulk_create(rows)
    pending = [n.pk for n in created if n.delivery_status == Notification.Delivery.PENDING and n.pk]
    if len(pending) < sum(1 for n in created if n.delivery_status == Notification.Delivery.PENDING):
        pending = []  # no ids back from the bulk insert: the redeliver step enqueues them
    if pending:
        transaction.on_commit(partial(_enqueue_sends, pending), robust=True)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        object_type=f"{object_type}_notice",
        object_id=object_id,
        detail={"kind": kind, "recipients": len(rows)},
    )
    return len(rows)
