"""Deadline rules, deadlines, notifications and their delivery (SPEC §3).

The database is the source of truth; the broker only carries work:

- a `Deadline` knows its next reminder (`next_stage`, `next_reminder_at`); the sweep reads only
  rows whose reminder has come, through a partial index;
- a `Notification` is one (deadline, stage, recipient) — a unique constraint makes doubles
  impossible — created with `delivery_status=pending` in the sweep's transaction;
- sending locks the notification row, sends only if still pending and marks it sent in the same
  transaction; every attempt leaves a `NotificationDelivery` row.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django_fsm import FSMField, transition


class TargetKind(models.TextChoices):
    REFERRAL = "referral", "Referral"
    MISSING_EPISODE = "missing_episode", "Missing episode"
    CASE_AGENCY = "case_agency", "Case participation (sharing grant)"
    MEETING = "meeting", "MDT meeting"
    ACTION_ITEM = "action_item", "MDT action item"


class Recipients(models.TextChoices):
    REFERRAL = "referral", "Referral creator and the responsible agency's case team"
    CASE_TEAM = "case_team", "The responsible agency's case team"
    MEETING_COORDINATORS = "meeting_coordinators", "The MDT team's coordinators"
    ASSIGNEE = "assignee", "The action item's assignee"


#: Which recipient strategies make sense for which target.
RECIPIENTS_FOR_TARGET: dict[str, set[str]] = {
    TargetKind.REFERRAL: {Recipients.REFERRAL, Recipients.CASE_TEAM},
    TargetKind.MISSING_EPISODE: {Recipients.CASE_TEAM},
    TargetKind.CASE_AGENCY: {Recipients.CASE_TEAM},
    TargetKind.MEETING: {Recipients.MEETING_COORDINATORS},
    TargetKind.ACTION_ITEM: {Recipients.ASSIGNEE, Recipients.CASE_TEAM},
}


class ResponsibleAgency(models.TextChoices):
    REFERRING = "referring", "The referring agency (the referral's creator)"
    RECEIVING = "receiving", "The receiving agency"
    LEAD = "lead", "The case's lead agency"
    ITEM_AGENCY = "item_agency", "The action item's agency"
    NONE = "none", "None (MDT team)"


class DeadlineRule(models.Model):
    """One row of SPEC §3's table. Editable by a system admin; a deadline copies what it needs
    when it is opened, so an edit affects deadlines opened afterwards and never rewrites one."""

    class LapseOutcome(models.TextChoices):
        MISSED = "missed", "Missed (the default)"
        MET = "met", "Met (e.g. a sharing grant left to expire)"

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100, help_text="Short label used in reminders, e.g. 'Written report due'.")
    target = models.CharField(max_length=20, choices=TargetKind.choices)
    starts_on = models.CharField(max_length=200, help_text="What starts the clock.")
    #: due = clock start + offset; or, with `due_anchor`, that field of the target + offset
    #: (a meeting's start − 48 h, an action item's own due time).
    offset = models.DurationField(help_text="Added to the clock start (or to the anchor field); may be negative.")
    due_anchor = models.CharField(
        max_length=50,
        blank=True,
        default="",
        help_text="Field of the target the offset counts from; empty: the clock start.",
    )
    met_by = models.CharField(max_length=200, help_text="What meets the deadline.")
    legal_source = models.TextField(help_text="The law or policy this rule keeps.")
    legal_default = models.CharField(
        max_length=100, blank=True, default="", help_text="The law's default, kept beside any edit."
    )
    #: The upcoming reminder when this fraction of the clock has passed (2/3 by default); null: none.
    upcoming_fraction = models.FloatField(null=True, blank=True, default=2 / 3)
    #: The overdue (escalation) reminder this long after the due time; null: none.
    overdue_after = models.DurationField(null=True, blank=True)
    escalate_overdue = models.BooleanField(
        default=True, help_text="Overdue also goes to the responsible agency's supervisors."
    )
    recipients = models.CharField(max_length=30, choices=Recipients.choices)
    responsible_agency = models.CharField(max_length=20, choices=ResponsibleAgency.choices)
    lapse_outcome = models.CharField(max_length=10, choices=LapseOutcome.choices, default=LapseOutcome.MISSED)
    is_active = models.BooleanField(default=True, help_text="Inactive: no new deadlines are opened for it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(upcoming_fraction__isnull=True)
                | (models.Q(upcoming_fraction__gt=0) & models.Q(upcoming_fraction__lt=1)),
                name="deadline_rule_upcoming_fraction_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.target and self.recipients and self.recipients not in RECIPIENTS_FOR_TARGET.get(self.target, set()):
            raise ValidationError({"recipients": "These recipients do not fit this rule's target."})
        if self.overdue_after is not None and self.overdue_after.total_seconds() < 0:
            raise ValidationError({"overdue_after": "Must not be negative."})


class Deadline(models.Model):
    """One legal clock for one object (SPEC §3).

    Status: open → met | missed | waived | cancelled | not_applicable | superseded, and missed →
    the same but missed (the transitions below, the only way it changes). `missed` is
    recorded when the due time passes unmet; a missed deadline is still outstanding: it still
    gets its overdue reminder, and a late fact still meets it (met_at after due_at).
    `not_applicable` and `superseded` are set by the service that owns the target when the facts
    settle the clock (a declined or duplicate referral), with the reason. A fact recorded late with a time before the due time meets
    it on time, "recorded late" (recorded_at after due_at). The reminder times are copied from
    the rule when opened.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        MET = "met"
        MISSED = "missed"
        WAIVED = "waived"
        CANCELLED = "cancelled"
        #: It can no longer be met (e.g. the services clock of a declined recovery).
        NOT_APPLICABLE = "not_applicable"
        #: Another deadline carries the same duty (e.g. the original of a duplicate referral).
        SUPERSEDED = "superseded"

    class Stage(models.TextChoices):
        UPCOMING = "upcoming"
        DUE = "due"
        OVERDUE = "overdue"

    #: Statuses in which the deadline is still unmet, "outstanding" (reminders may still go out).
    ACTIVE = (Status.OPEN, Status.MISSED)
    #: Settled by the facts (not by a person): set with `settled_at` and `settle_reason`.
    SETTLED = (Status.NOT_APPLICABLE, Status.SUPERSEDED)

    # Unindexed foreign keys here (rule, agency, waived_by) are never looked up on their own:
    # lists filter within the visible set, and rules, agencies and users are deactivated, not
    # deleted. The sweep rewrites every claimed row, and each index is one more entry per row.
    rule = models.ForeignKey(DeadlineRule, on_delete=models.PROTECT, related_name="deadlines", db_index=False)
    # The target (a Referral, MissingEpisode, CaseAgency, Meeting or ActionItem) …
    # No single-column indexes where a composite index below leads with the column: the sweep
    # rewrites every claimed row, and each index is one more entry per update.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    # … and what lists, visibility and recipients need, denormalised so no list joins generically.
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    referral = models.ForeignKey(
        "cases.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    youth_id = models.BigIntegerField(null=True, blank=True)
    #: The responsible agency: its supervisors get the overdue escalation and may waive.
    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    #: For meeting rules: the MDT team (by id; the notifications app does not depend on mdt/).
    team_id = models.BigIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    #: Human-readable, non-identifying: "Referral R-123", "Case H-2026-000123", "STAR meeting M-4".
    reference = models.CharField(max_length=100)
    #: API path of the target (ids only), for links.
    link_path = models.CharField(max_length=200, blank=True, default="")
    # Copied from the rule when opened (history is never rewritten by a rule edit).
    recipients = models.CharField(max_length=30, choices=Recipients.choices)
    escalate_overdue = models.BooleanField(default=True)
    lapse_outcome = models.CharField(max_length=10, choices=DeadlineRule.LapseOutcome.choices, default="missed")
    starts_at = models.DateTimeField()
    upcoming_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    overdue_at = models.DateTimeField(null=True, blank=True)
    status = FSMField(max_length=16, choices=Status.choices, default=Status.OPEN)
    #: The next reminder stage and when it comes; null once no reminder remains.
    next_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True, default="")
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    #: When the fact happened, as the user states it (SPEC §2 "Fact times") …
    met_at = models.DateTimeField(null=True, blank=True)
    #: … and when it was recorded. Recorded after `due_at` with `met_at` before it: "met,
    #: recorded late" — met, and the reminders sent meanwhile stand. Null on deadlines met
    #: before this was kept.
    recorded_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)
    waived_at = models.DateTimeField(null=True, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    waive_reason = models.TextField(blank=True, default="")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True, default="")
    #: not_applicable / superseded: when, why (the decision, never free text a person wrote) and,
    #: when superseded, the deadline that carries the duty now.
    settled_at = models.DateTimeField(null=True, blank=True)
    settle_reason = models.CharField(max_length=200, blank=True, default="")
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    #: Reminder stages a late sweep passed over (SPEC §3: only the latest stage reached is sent):
    #: [{"stage": "upcoming", "at": <its time>, "recorded_at": <the sweep's time>}, …].
    superseded_stages = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep's only read: rows with a reminder still to come, by when. Met, waived,
            # cancelled and finished deadlines drop out of the index, so the sweep's cost grows
            # with the number due, not with the table.
            models.Index(
                fields=["next_reminder_at"],
                name="deadline_next_reminder_idx",
                condition=models.Q(next_reminder_at__isnull=False),
            ),
            models.Index(fields=["content_type", "object_id"], name="deadline_target_idx"),
            models.Index(fields=["case", "status"], name="deadline_case_idx"),
            models.Index(fields=["referral", "status"], name="deadline_referral_idx"),
            models.Index(fields=["assignee", "status"], name="deadline_assignee_idx"),
            models.Index(fields=["team_id", "status"], name="deadline_team_idx"),
            models.Index(fields=["due_at", "id"], name="deadline_due_idx"),
            # The reports (SPEC §9) count the deadlines that started in a quarter: a range of
            # this index, not the whole table.
            models.Index(fields=["starts_at"], name="deadline_starts_idx"),
            # The lists people read most, `status=open` and `status=outstanding`, soonest first:
            # a reader who sees most deadlines (a supervisor) walks these and stops after a page,
            # past no met, waived or (for `open`) missed row, however many have accumulated.
            models.Index(fields=["due_at", "id"], name="deadline_open_due_idx", condition=models.Q(status="open")),
            models.Index(
                fields=["due_at", "id"],
                name="deadline_outstanding_due_idx",
                condition=models.Q(status__in=["open", "missed"]),
            ),
        ]
        constraints = [
            # One unmet deadline per rule and target: opening twice returns the first.
            models.UniqueConstraint(
                fields=["rule", "content_type", "object_id"],
                condition=models.Q(status__in=["open", "missed"]),
                name="deadline_one_active_per_rule_target",
            ),
            models.CheckConstraint(
                condition=models.Q(next_reminder_at__isnull=True) | ~models.Q(next_stage=""),
                name="deadline_next_reminder_has_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"Deadline {self.pk} ({self.rule_id})"

    # The status machine (SPEC §3). An outstanding deadline (open or missed) is met, waived,
    # cancelled or settled by the facts; only an open one is missed, by the sweep when its due
    # time passes. Every other status is final. The transitions only move the status: the
    # services in notifications/services/ (the only callers) lock the row and record the rest.
    # A transition not allowed from the current status raises TransitionNotAllowed.

    @transition(field=status, source=[Status.OPEN, Status.MISSED], target=Status.MET)
    def meet(self) -> None:
        """A missed deadline can still be met, late (SPEC §3); the sweep also meets an open one
        whose rule counts lapsing as met (a sharing grant left to expire)."""

    @transition(field=status, source=Status.OPEN, target=Status.MISSED)
    def miss(self) -> None:
        """The due time passed unmet (the sweep)."""

    @transition(field=status, source=[Status.OPEN, Status.MISSED], target=Status.WAIVED)
    def waive(self) -> None:
        pass

    @transition(field=status, source=[Status.OPEN, Status.MISSED], target=Status.CANCELLED)
    def cancel(self) -> None:
        pass

    @transition(field=status, source=[Status.OPEN, Status.MISSED], target=Status.NOT_APPLICABLE)
    def mark_not_applicable(self) -> None:
        """Settled by the facts: it can no longer be met."""

    @transition(field=status, source=[Status.OPEN, Status.MISSED], target=Status.SUPERSEDED)
    def supersede(self) -> None:
        """Settled by the facts: another deadline carries the same duty."""

    @property
    def met_late(self) -> bool:
        """Met, by a fact that happened after the due time."""
        return self.status == self.Status.MET and self.met_at is not None and self.met_at > self.due_at

    @property
    def recorded_late(self) -> bool:
        """Met by a fact that happened in time but was recorded after the due time."""
        return (
            self.status == self.Status.MET
            and self.met_at is not None
            and self.recorded_at is not None
            and self.met_at <= self.due_at < self.recorded_at
        )

    def stage_times(self) -> list[tuple[str, datetime]]:
        """The reminder stages of this deadline in order, with their times."""
        stages: list[tuple[str, datetime]] = []
        if self.upcoming_at is not None:
            stages.append((self.Stage.UPCOMING, self.upcoming_at))
        stages.append((self.Stage.DUE, self.due_at))
        if self.overdue_at is not None:
            stages.append((self.Stage.OVERDUE, self.overdue_at))
        return stages


class Notification(models.Model):
    """One reminder (or notice) to one person: an inbox entry, and an email unless the person
    turned email off for that kind (the overdue escalation is always emailed)."""

    class Stage(models.TextChoices):
        UPCOMING = "upcoming"
        DUE = "due"
        OVERDUE = "overdue"
        NOTICE = "notice"  # not a deadline stage: e.g. an MDT agenda was published

    class Reason(models.TextChoices):
        RESPONSIBLE = "responsible"  # one of the people responsible
        ESCALATION = "escalation"  # a supervisor, for the overdue stage
        SUBSTITUTE = "substitute"  # the responsible people were deactivated: the next in line
        MEMBER = "member"  # an MDT team member (agenda notices)
        DIGEST = "digest"  # a supervisor's daily digest of the agency's outstanding deadlines

    class Delivery(models.TextChoices):
        PENDING = "pending"  # email to send
        SENT = "sent"
        FAILED = "failed"  # retries exhausted: visible, never silent
        INBOX_ONLY = "inbox_only"  # email turned off, no address, or recipient deactivated

    # Indexed by the unique constraint (deadline, stage, recipient), which leads with it.
    deadline = models.ForeignKey(
        Deadline, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications", db_index=False
    )
    # Indexed by notification_inbox_idx (recipient, -id), which leads with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications", db_index=False
    )
    #: The rule code (or a notice kind such as "mdt_agenda"); copied so the inbox needs no join.
    rule = models.CharField(max_length=64)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    reason = models.CharField(max_length=12, choices=Reason.choices, default=Reason.RESPONSIBLE)
    #: Non-identifying by construction: kind, stage, case/referral number.
    subject = models.CharField(max_length=200)
    reference = models.CharField(max_length=100)
    due_at = models.DateTimeField(null=True, blank=True)
    link = models.CharField(max_length=300, blank=True, default="")
    # Not indexed: nothing looks notifications up by case or referral (the inbox is by recipient),
    # and every reminder the sweep inserts would pay for the indexes.
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    referral = models.ForeignKey(
        "cases.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    #: For notices about a meeting (by id; no dependency on mdt/).
    meeting_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(max_length=12, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: While pending: when the redeliver step may enqueue the send again (after a lost message,
    #: a flushed broker or a killed worker). Pushed back past every retry's back-off.
    redeliver_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # At most once per (deadline, stage, recipient). NULL deadlines (notices) are distinct.
            models.UniqueConstraint(
                fields=["deadline", "stage", "recipient"], name="notification_once_per_stage_recipient"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)
            ),
            models.Index(
                fields=["redeliver_after"],
                name="notification_pending_idx",
                condition=models.Q(delivery_status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"Notification {self.pk}"


class NotificationDelivery(models.Model):
    """One email attempt: when, how it ended, and the error's class name only (never its
    message, which may carry an address or server text)."""

    class Outcome(models.TextChoices):
        SENT = "sent"
        ERROR = "error"  # will be retried
        FAILED = "failed"  # last attempt: the notification is failed
        SKIPPED = "skipped"  # not emailed (preference off, no address, recipient deactivated)

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error_class = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["notification", "id"]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of notification {self.notification_id}: {self.outcome}"


class NotificationPreference(models.Model):
    """Per person and reminder kind: also by email or not (the in-app inbox always gets it;
    the overdue escalation is always emailed)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    rule = models.CharField(max_length=64)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "rule"]
        constraints = [models.UniqueConstraint(fields=["user", "rule"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.rule}={'email' if self.email else 'inbox'}"


class DailyDigest(models.Model):
    """A supervisor's daily digest (SPEC §3): one per supervisor and Pacific day, at most — the
    unique constraint makes a second sweep of the digest task a no-op. `lines` are what the email
    lists, non-identifying by construction (rule name, case or referral number, due time,
    status); `notification` is its inbox entry and email (null: nothing outstanding that day)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+", db_index=False)
    local_date = models.DateField(help_text="The day in America/Los_Angeles.")
    lines = models.JSONField(default=list, blank=True)
    notification = models.OneToOneField(
        Notification, on_delete=models.PROTECT, null=True, blank=True, related_name="digest"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-local_date", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "local_date"], name="daily_digest_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"Digest {self.local_date} for user {self.recipient_id}"
