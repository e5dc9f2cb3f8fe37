"""Court MDT teams, meetings, agendas, reviews, attendance and action items (SPEC §4).

Narrative fields (review summaries and decisions, action item descriptions, minutes) are
encrypted at rest like every other case narrative.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from cases.crypto import EncryptedTextField
from cases.models import Case

if TYPE_CHECKING:
    from accounts.models import User


class MDTTeam(models.Model):
    """A collaborative court's multidisciplinary team (STAR, DREAM)."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    #: The court whose cases this team reviews: a case joins an agenda only if its court is this.
    court = models.CharField(max_length=10, choices=Case.Court.choices)
    court_location = models.CharField(max_length=300, blank=True, default="")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", through_fields=("team", "user"), related_name="mdt_teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "MDT team"
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z][A-Z0-9_]*$"), name="mdt_team_code_upper"),
        ]

    def __str__(self) -> str:
        return self.code


class TeamMembership(models.Model):
    team = models.ForeignKey(MDTTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mdt_memberships")
    is_coordinator = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="mdt_one_membership_per_team")]
        indexes = [models.Index(fields=["user", "team"])]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"

    def clean(self) -> None:
        # The admin inline validates through the same rule as the API.
        from django.core.exceptions import ValidationError

        from .permissions import may_sit_on_team

        if self.user_id and not may_sit_on_team(self.user):
            raise ValidationError({"user": "Only active MDT members, case workers and supervisors may sit on a team."})


class Meeting(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        PUBLISHED = "published"
        HELD = "held"
        MINUTES_FINAL = "minutes_final"
        CANCELLED = "cancelled"

    team = models.ForeignKey(MDTTeam, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    #: A room or a video link. Never case details: it goes into calendar feeds.
    location = models.CharField(max_length=300, blank=True, default="")
    status = FSMField(max_length=16, choices=Status.choices, default=Status.SCHEDULED, protected=False)
    #: The iCalendar UID (stable across downloads and edits) and SEQUENCE (bumped on change).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    #: Meetings created together as a weekly series share this.
    series = models.UUIDField(null=True, blank=True, db_index=True)
    minutes = EncryptedTextField(blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    minutes_finalized_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: SPEC §2 History: every change (the minutes above all) is kept with who and when; the
    #: minutes stay encrypted in the history table too.
    history = HistoricalRecords()
    #: Set before save(): simple-history names it as the history row's author.
    _history_user: User | None

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["team", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="mdt_meeting_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Meeting {self.pk}"

    # The allowed status changes (the services do the work around them; django-fsm refuses any
    # other change, which the API answers with 409).
    @transition(field=status, source=Status.SCHEDULED, target=Status.PUBLISHED)
    def publish(self) -> None:
        pass

    @transition(field=status, source=Status.PUBLISHED, target=Status.HELD)
    def hold(self) -> None:
        pass

    @transition(field=status, source=Status.HELD, target=Status.MINUTES_FINAL)
    def finalize_minutes(self) -> None:
        pass

    @transition(field=status, source=[Status.SCHEDULED, Status.PUBLISHED], target=Status.CANCELLED)
    def cancel(self) -> None:
        pass

    @property
    def is_locked(self) -> bool:
        return self.status in {self.Status.MINUTES_FINAL, self.Status.CANCELLED}

    @property
    def agenda_editable(self) -> bool:
        return self.status in {self.Status.SCHEDULED, self.Status.PUBLISHED}

    @property
    def in_session(self) -> bool:
        """Published or held: attendance, reviews and action items may be recorded."""
        return self.status in {self.Status.PUBLISHED, self.Status.HELD}


class AgendaItem(models.Model):
    class Reason(models.TextChoices):
        NEW_REFERRAL = "new_referral"
        PROGRESS_REVIEW = "progress_review"
        MISSING_EPISODE = "missing_episode"
        PLACEMENT_CHANGE = "placement_change"
        COURT_DATE = "court_date"
        OTHER = "other"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="agenda_items")
    #: 1-based; the services keep positions dense (1..n) on every add, remove and reorder.
    position = models.PositiveIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    presenting_agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    minutes_allotted = models.PositiveSmallIntegerField(default=10)
    # The review outcome recorded during or after the meeting.
    review_summary = EncryptedTextField(blank=True, default="")
    review_decisions = EncryptedTextField(blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: Set when the case left the team's court after the agenda was published (SPEC §4): the
    #: item stays on the published agenda, shown as withdrawn, without its agenda view.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: SPEC §2 History: the item's changes (reason, time, presenter, withdrawal, and the review
    #: fields that mirror the latest ReviewVersion) with who and when. Review outcomes are also
    #: kept version by version in ReviewVersion (text, author, time), which the API shows.
    history = HistoricalRecords()
    #: Set before save(): simple-history names it as the history row's author.
    _history_user: User | None

    class Meta:
        ordering = ["meeting", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "case"], name="mdt_case_once_per_agenda")]
        indexes = [models.Index(fields=["case", "reviewed_at"])]

    def __str__(self) -> str:
        return f"Agenda item {self.pk}"


class ReviewVersion(models.Model):
    """One recorded version of an agenda item's review outcome (SPEC §4: an edit is a new
    version, the earlier kept with its author). Append-only: written only by
    `services.agenda_item_review`; the item's own review fields mirror the latest version."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="review_versions")
    #: 1, 2, … per item, in the order recorded.
    version = models.PositiveIntegerField()
    summary = EncryptedTextField()
    decisions = EncryptedTextField(blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "-version"]
        constraints = [models.UniqueConstraint(fields=["item", "version"], name="mdt_one_review_version_number")]

    def __str__(self) -> str:
        return f"Review version {self.pk}"


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="mdt_one_attendance_per_user")]

    def __str__(self) -> str:
        return f"Attendance {self.pk}"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        DONE = "done"
        CANCELLED = "cancelled"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="action_items")
    #: The team that agreed it; its members (and the assignee) see it.
    team = models.ForeignKey(MDTTeam, on_delete=models.PROTECT, related_name="action_items")
    #: The meeting where it was agreed (optional: items can be recorded between meetings).
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="action_items")
    description = EncryptedTextField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="mdt_action_items"
    )
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField()
    status = FSMField(max_length=10, choices=Status.choices, default=Status.OPEN, protected=False)
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    #: Why it was cancelled when the system cancelled it (e.g. "case closed"); empty otherwise.
    cancel_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["case", "status"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return f"Action item {self.pk}"

    @transition(field=status, source=Status.OPEN, target=Status.DONE)
    def mark_done(self) -> None:
        pass

    @transition(field=status, source=Status.OPEN, target=Status.CANCELLED)
    def cancel(self) -> None:
        pass


class CalendarFeed(models.Model):
    """A member's personal calendar subscription. Only the SHA-256 of the secret is stored; the
    URL is shown once when created or rotated, and stops working when revoked."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mdt_calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed {self.pk}"


class AgendaChange(models.Model):
    """One change to a published meeting (SPEC §4 "changes after publishing notify them again,
    batched"): what kind — its time, its place, its items — by whom, and for a time change the
    old and the new start. The members' notices are made from these rows (mdt/services/
    change_notices.py), never from the request that changed the meeting."""

    class Kind(models.TextChoices):
        TIME = "time"
        PLACE = "place"
        ITEMS = "items"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    old_starts_at = models.DateTimeField(null=True, blank=True)
    new_starts_at = models.DateTimeField(null=True, blank=True)
    new_ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["meeting", "id"]

    def __str__(self) -> str:
        return f"Agenda change {self.pk}"


class AgendaNoticeMark(models.Model):
    """Per member and meeting: when they were last sent an "agenda changed" notice and the last
    change it covered — what keeps it to one notice per member per 15 minutes."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notified_at = models.DateTimeField()
    last_change_id = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["meeting", "user"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="mdt_one_notice_mark_per_member")]

    def __str__(self) -> str:
        return f"Notice mark {self.meeting_id}:{self.user_id}"


class AgendaRendering(models.Model):
    """The meeting's printed agenda as last laid out, without the reader's footer (SPEC §4 "The
    PDF"): a reprint whose page content is unchanged — the same HTML, compared by a keyed hash —
    reuses it and only stamps who printed it and when. Encrypted like the fields; disposable
    (a key it cannot be read with, or any change to what the agenda shows, renders it again)."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="+")
    #: HMAC-SHA256 of the page HTML under the blind-index key: nothing of the content can be
    #: recomputed from it without the key.
    fingerprint = models.CharField(max_length=64)
    #: The Fernet token of the PDF's bytes.
    pdf = models.BinaryField()
    rendered_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Agenda rendering {self.meeting_id}"
