"""Youth, referrals, screening, cases and their parts (SPEC §2).

Identifying fields (names, date of birth, aliases, narratives, note text, placement addresses,
protected alert details) are encrypted at rest; equality look-ups go through blind indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from .crypto import EncryptedDateField, EncryptedJSONField, EncryptedTextField

if TYPE_CHECKING:
    from accounts.models import User


class IndicatorCode(models.Model):
    """CSEC indicators from the county fact sheet; a system admin adds more and deactivates
    them in the admin (never deletes: referrals name them). A deactivated code stays readable
    on the referrals that carry it and is refused on new ones."""

    code = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=200)
    #: What the indicator covers, for the people who pick it (reference text, no case data).
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Youth(models.Model):
    class GenderIdentity(models.TextChoices):
        GIRL = "girl", "Girl"
        BOY = "boy", "Boy"
        TRANSGENDER_GIRL = "transgender_girl", "Transgender girl"
        TRANSGENDER_BOY = "transgender_boy", "Transgender boy"
        NON_BINARY = "non_binary", "Non-binary"
        SELF_DESCRIBED = "self_described", "Self-described"
        NOT_STATED = "not_stated", "Not stated"

    first_name = EncryptedTextField()
    last_name = EncryptedTextField()
    date_of_birth = EncryptedDateField(null=True, blank=True)
    aliases = EncryptedJSONField(default=list, blank=True)
    gender_identity = models.CharField(max_length=32, choices=GenderIdentity.choices, default=GenderIdentity.NOT_STATED)
    #: Free text, used with gender_identity=self_described (or to add nuance).
    gender_identity_detail = models.CharField(max_length=100, blank=True, default="")
    pronouns = models.CharField(max_length=50, blank=True, default="")
    preferred_language = models.CharField(max_length=50, blank=True, default="")
    #: Phone numbers, social-media handles, who to call: a list of {"kind", "value", "label"}.
    #: Encrypted, and shown only to the lead agency's case team, like placement addresses: never
    #: in agendas, exports, emails or calendar feeds (SPEC §2).
    contact_details = EncryptedJSONField(default=list, blank=True)
    # Blind indexes (HMAC of the normalised value): equality look-ups without decrypting.
    first_name_bidx = models.CharField(max_length=64, db_index=True, editable=False, default="")
    last_name_bidx = models.CharField(max_length=64, db_index=True, editable=False, default="")
    date_of_birth_bidx = models.CharField(max_length=64, db_index=True, editable=False, default="")
    #: The agency whose user created the record: "which agency holds it" for hidden matches.
    holding_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: Set when a supervisor merges this record into another; cleared by un-merge.
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "youth"

    def __str__(self) -> str:
        return f"Youth {self.pk}"  # never the name


class YouthMerge(models.Model):
    """A supervisor's merge of a duplicate youth record (`source`) into another (`target`).

    What was moved is recorded by id so that un-merging puts exactly that back."""

    source = models.ForeignKey("Youth", on_delete=models.PROTECT, related_name="merges_out")
    target = models.ForeignKey("Youth", on_delete=models.PROTECT, related_name="merges_in")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField()
    #: {"referrals": [ids], "cases": [ids], "external_ids": [ids]}
    moved = models.JSONField(default=dict)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    unmerged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"], condition=models.Q(unmerged_at__isnull=True), name="one_active_merge_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"YouthMerge {self.pk}"  # ids only, never identifying text


class YouthSearchKey(models.Model):
    """Blind-indexed search keys for candidate narrowing in duplicate search: one row per
    (youth, key), keys being HMACs of normalised names, aliases and their phonetic codes and
    of the date of birth (and its day/month transposition)."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="search_keys")
    kind = models.CharField(max_length=16)  # name, phonetic, dob
    key = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["key"], name="youth_search_key_idx")]
        constraints = [models.UniqueConstraint(fields=["youth", "kind", "key"], name="youth_search_key_unique")]

    def __str__(self) -> str:
        return f"YouthSearchKey {self.pk}"  # ids only, never identifying text


class YouthExternalId(models.Model):
    """An agency's own case number for the youth (DCFS referral number, Probation number, …)."""

    youth = models.ForeignKey(Youth, on_delete=models.CASCADE, related_name="external_ids")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=50, blank=True, default="")
    value = EncryptedTextField()
    value_bidx = models.CharField(max_length=64, editable=False)

    history = HistoricalRecords()
    #: Set before save() or delete(): simple-history names it as the history row's author.
    _history_user: User | None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "value_bidx"], name="external_id_unique_per_agency")]

    def __str__(self) -> str:
        return f"YouthExternalId {self.pk}"  # ids only, never identifying text


class Referral(models.Model):
    class Source(models.TextChoices):
        LAW_ENFORCEMENT_RECOVERY = "law_enforcement_recovery"
        HOTLINE = "hotline"
        PROBATION = "probation"
        SCHOOL = "school"
        MEDICAL = "medical"
        SELF = "self"
        FAMILY = "family"
        COMMUNITY = "community"
        OTHER = "other"

    class Status(models.TextChoices):
        RECEIVED = "received"
        SCREENING = "screening"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        DUPLICATE = "duplicate"

    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="referrals")
    referring_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    receiving_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    source = models.CharField(max_length=32, choices=Source.choices)
    indicators = models.JSONField(default=list, blank=True)
    narrative = EncryptedTextField(blank=True, default="")
    # The timestamps that start and stop the legal clocks (SPEC §2, §3).
    #: When the reporter learned of the abuse: the 36-hour written report clock of PC 11166(a)
    #: runs from it; null — not given — it runs from `hotline_reported_at`.
    information_received_at = models.DateTimeField(null=True, blank=True)
    hotline_reported_at = models.DateTimeField(null=True, blank=True)
    written_report_submitted_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    responder_arrived_at = models.DateTimeField(null=True, blank=True)
    law_enforcement_notified_at = models.DateTimeField(null=True, blank=True)
    status = FSMField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    decline_reason = models.TextField(blank=True, default="")
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.ForeignKey("Case", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["referring_agency", "-id"]),
            models.Index(fields=["receiving_agency", "-id"]),
            models.Index(fields=["created_by", "-id"]),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk}"

    # The status machine (SPEC §2): received -> screening -> accepted | declined | duplicate.
    # The transitions only move the status; services lock the row, check who may act and do
    # the rest. A transition not allowed from the current status raises TransitionNotAllowed.

    @transition(field=status, source=[Status.RECEIVED, Status.SCREENING], target=Status.SCREENING)
    def screen(self) -> None:
        """Screening may be recorded again (a corrected level) until the referral is decided."""

    @transition(field=status, source=Status.SCREENING, target=Status.ACCEPTED)
    def accept(self) -> None:
        """Only a screened referral can be accepted."""

    @transition(field=status, source=[Status.RECEIVED, Status.SCREENING], target=Status.DECLINED)
    def decline(self) -> None:
        pass

    @transition(field=status, source=[Status.RECEIVED, Status.SCREENING], target=Status.DUPLICATE)
    def mark_duplicate(self) -> None:
        pass


class Screening(models.Model):
    class Level(models.TextChoices):
        NO_CONCERN = "no_concern"
        POSSIBLE_CONCERN = "possible_concern"
        CLEAR_CONCERN = "clear_concern"

    #: The referral screened; none for a screening on return from a missing episode (WIC
    #: 16501.35), which its episode's `return_screening` points at.
    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="screening", null=True, blank=True)
    level = models.CharField(max_length=20, choices=Level.choices)
    suggested_level = models.CharField(max_length=20, choices=Level.choices)
    instrument = models.CharField(max_length=100)
    instrument_version = models.CharField(max_length=30, blank=True, default="")
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField()

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Screening {self.pk}"  # ids only, never identifying text


class CaseNumberSequence(models.Model):
    """Gap-free, race-free case numbers: one row per year, incremented under a row lock."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"CaseNumberSequence {self.pk}"  # ids only, never identifying text


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    class Court(models.TextChoices):
        STAR = "STAR"
        DREAM = "DREAM"

    class CsecStatus(models.TextChoices):
        AT_RISK = "at_risk"
        IDENTIFIED = "identified"
        BEFORE_CARE = "before_care"
        IN_CARE = "in_care"
        WHILE_MISSING = "while_missing"

    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="cases")
    number = models.CharField(max_length=20, unique=True)
    lead_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    status = FSMField(max_length=10, choices=Status.choices, default=Status.OPEN)
    close_reason = models.TextField(blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    #: The last reopening (a supervisor's action with a reason); earlier ones are in the history.
    reopen_reason = models.TextField(blank=True, default="")
    reopened_at = models.DateTimeField(null=True, blank=True)
    court = models.CharField(max_length=10, choices=Court.choices, blank=True, default="")
    csec_status = models.CharField(max_length=20, choices=CsecStatus.choices, default=CsecStatus.AT_RISK)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["lead_agency", "status"]), models.Index(fields=["court", "status"])]
        constraints = [
            # One open case per youth: accepting a referral links to it rather than opening another.
            models.UniqueConstraint(
                fields=["youth"], condition=models.Q(status="open"), name="one_open_case_per_youth"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # The status machine (SPEC §2): open -> closed -> open. The transitions only move the
    # status; cases/services/cases.py locks the row, checks who may act and does the rest (and
    # is the only caller). A transition not allowed from the current status raises
    # TransitionNotAllowed; the service answers it with 409.

    @transition(field=status, source=Status.OPEN, target=Status.CLOSED)
    def close(self) -> None:
        """Only an open case closes."""

    @transition(field=status, source=Status.CLOSED, target=Status.OPEN)
    def reopen(self) -> None:
        """Only a closed case reopens."""


class CaseTeamMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_memberships")
    case_role = models.CharField(max_length=50)  # social_worker, clinician, probation_officer, …
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"], condition=models.Q(removed_at__isnull=True), name="one_active_membership"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "case"]),
            # A case worker's visible cases start from their live team rows: this index answers
            # them without reading the table (an index-only scan), where the one above has to
            # visit each row for removed_at (a worker's rows are scattered over the table).
            models.Index(
                fields=["user", "case"], condition=models.Q(removed_at__isnull=True), name="active_team_user_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"CaseTeamMember {self.pk}"  # ids only, never identifying text


class CaseAgency(models.Model):
    """An agency's participation in a case, with the legal basis for sharing (SPEC §1)."""

    class LegalBasis(models.TextChoices):
        LEAD = "lead"
        COURT_MDT = "court_mdt"
        MDT_18961_7 = "mdt_18961_7"
        CONSENT = "consent"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participations")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="case_participations")
    legal_basis = models.CharField(max_length=20, choices=LegalBasis.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    granted_at = models.DateTimeField()
    #: Access stops at this instant; selectors compare with now(), so no job is needed.
    expires_at = models.DateTimeField(null=True, blank=True)
    good_cause = models.TextField(blank=True, default="")
    revoked_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()
    #: Set before save() or delete(): simple-history names it as the history row's author.
    _history_user: User | None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "agency"], name="one_participation_per_agency")]
        indexes = [models.Index(fields=["agency", "case"])]

    def __str__(self) -> str:
        return f"CaseAgency {self.pk}"  # ids only, never identifying text


class Note(models.Model):
    """Append-only. A correction is a new note referencing the old one."""

    class Visibility(models.TextChoices):
        TEAM = "team"
        AGENCY = "agency"
        CLINICAL = "clinical"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    body = EncryptedTextField()
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["case", "-id"])]

    def __str__(self) -> str:
        return f"Note {self.pk}"  # ids only, never identifying text


class MissingEpisode(models.Model):
    class Exploited(models.TextChoices):
        YES = "yes"
        NO = "no"
        UNKNOWN = "unknown"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="missing_episodes")
    missing_since = models.DateTimeField()
    learned_at = models.DateTimeField()
    reported_to_law_enforcement_at = models.DateTimeField(null=True, blank=True)
    ncic_number = models.CharField(max_length=50, blank=True, default="")
    reported_to_ncmec_at = models.DateTimeField(null=True, blank=True)
    attorney_notified_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    # The return debrief of WIC 16501.35, recorded as a whole (SPEC §2): when, who, why the
    # youth left, what happened while away (and whether they were exploited), and a screening on
    # return. The narrative parts are encrypted; they are read as `team` notes are.
    return_debrief_at = models.DateTimeField(null=True, blank=True)
    debriefed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    absence_factors = EncryptedTextField(blank=True, default="")
    experiences_while_absent = EncryptedTextField(blank=True, default="")
    exploited_while_absent = models.CharField(max_length=10, choices=Exploited.choices, blank=True, default="")
    return_screening = models.OneToOneField(
        "Screening", on_delete=models.PROTECT, null=True, blank=True, related_name="missing_episode"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-missing_since"]

    def __str__(self) -> str:
        return f"MissingEpisode {self.pk}"  # ids only, never identifying text

    @property
    def is_open(self) -> bool:
        """The youth is still missing."""
        return self.returned_at is None

    @property
    def debrief_missing(self) -> list[str]:
        """The parts of the return debrief not recorded yet (empty: recorded as a whole)."""
        parts = {
            "return_debrief_at": self.return_debrief_at is not None,
            "debriefed_by": self.debriefed_by_id is not None,
            "absence_factors": bool((self.absence_factors or "").strip()),
            "experiences_while_absent": bool((self.experiences_while_absent or "").strip()),
            "exploited_while_absent": bool(self.exploited_while_absent),
            "return_screening": self.return_screening_id is not None,
        }
        return [name for name, done in parts.items() if not done]


class Placement(models.Model):
    class PlacementType(models.TextChoices):
        HOME_OF_PARENT = "home_of_parent"
        RELATIVE = "relative"
        FOSTER_HOME = "foster_home"
        GROUP_HOME = "group_home"
        SHELTER = "shelter"
        JUVENILE_HALL = "juvenile_hall"
        OTHER = "other"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="placements")
    placement_type = models.CharField(max_length=20, choices=PlacementType.choices)
    csec_specialized = models.BooleanField(default=False)
    #: Visible only to the lead agency's case team; never in agendas, exports, emails, feeds.
    address = EncryptedTextField(blank=True, default="")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    #: Why it ended (SPEC §2: "ended with an end date and a reason"); NEW_PLACEMENT_REASON when a
    #: new placement ended it.
    end_reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    NEW_PLACEMENT_REASON = "new placement"

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="placement_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Placement {self.pk}"  # ids only, never identifying text


class ServiceReferral(models.Model):
    """A service the youth is referred to (SPEC §2). A `mental_health` service is clinical
    information (WIC 5328): shown only where clinical notes are (cases/selectors/parts.py)."""

    class Kind(models.TextChoices):
        HEALTH_EXAM = "health_exam"
        MENTAL_HEALTH = "mental_health"
        MEDICAL = "medical"
        SUBSTANCE_USE = "substance_use"
        ADVOCACY = "advocacy"
        HOUSING = "housing"
        EDUCATION = "education"
        LEGAL = "legal"
        OTHER = "other"

    class Status(models.TextChoices):
        REFERRED = "referred"
        ACCEPTED = "accepted"
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"
        DECLINED = "declined"
        NOT_ENGAGED = "not_engaged"
        CANCELLED = "cancelled"

    #: referred → accepted → in_progress → completed, or declined / not_engaged / cancelled.
    #: status -> the statuses it may become (the terminal ones become nothing).
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.REFERRED: {Status.ACCEPTED, Status.DECLINED, Status.CANCELLED},
        Status.ACCEPTED: {Status.IN_PROGRESS, Status.DECLINED, Status.NOT_ENGAGED, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.COMPLETED, Status.NOT_ENGAGED, Status.CANCELLED},
    }
    #: The statuses that end a service (its `ended_at`).
    ENDED = frozenset({Status.COMPLETED, Status.DECLINED, Status.NOT_ENGAGED, Status.CANCELLED})

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="services")
    provider = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    service_type = models.CharField(max_length=50, blank=True, default="")  # e.g. health_exam, therapy
    evidence_based_practice = models.CharField(max_length=100, blank=True, default="")
    is_health_exam = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REFERRED)
    #: Why it was declined, not engaged or cancelled.
    status_reason = models.CharField(max_length=500, blank=True, default="")
    referred_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-referred_at"]
        indexes = [models.Index(fields=["case", "kind"], name="service_case_kind_idx")]

    def __str__(self) -> str:
        return f"ServiceReferral {self.pk}"  # ids only, never identifying text


class CourtHearing(models.Model):
    """A court date (SPEC §2): `scheduled` → `held` | `rescheduled` | `cancelled`. A rescheduled
    hearing has its new time and may be held, rescheduled again or cancelled; each change keeps
    its reason, and the history keeps the earlier times."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        HELD = "held"
        RESCHEDULED = "rescheduled"
        CANCELLED = "cancelled"

    #: The statuses a hearing can still move from.
    PENDING = frozenset({Status.SCHEDULED, Status.RESCHEDULED})

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="hearings")
    starts_at = models.DateTimeField()
    court = models.CharField(max_length=10, choices=Case.Court.choices, blank=True, default="")
    hearing_type = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    #: Why it was rescheduled or cancelled (the latest change; the history keeps each).
    reason = models.CharField(max_length=500, blank=True, default="")
    #: What the court decided (encrypted: it can carry the detail of a dependency or delinquency
    #: matter).
    outcome = EncryptedTextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return f"CourtHearing {self.pk}"  # ids only, never identifying text


class SafetyAlert(models.Model):
    """Shown at the top of every case and agenda view. `summary` is safe to show to everyone who
    sees the case; `protected_detail` (who the exploiter is, what not to disclose) only to the
    lead agency's case team."""

    class Kind(models.TextChoices):
        KNOWN_EXPLOITER = "known_exploiter"
        DO_NOT_DISCLOSE_PLACEMENT = "do_not_disclose_placement"
        SAFETY_RISK = "safety_risk"
        OTHER = "other"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    summary = models.CharField(max_length=200)
    protected_detail = EncryptedTextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: Resolution (SPEC §2: who, when, why): the alert stops showing and stays in the history.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.CharField(max_length=500, blank=True, default="")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"SafetyAlert {self.pk}"  # ids only, never identifying text


class ShareRequest(models.Model):
    """An agency's request to share a case it does not participate in (SPEC §1 "Sharing has one
    door"): raised when that agency accepts a referral for a youth whose open case another
    agency leads. Only the lead agency's supervisors decide it; approving goes through the one
    grant service (cases/services/sharing.py), declining grants nothing."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DECLINED = "declined"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="share_requests")
    #: The requesting agency: the receiving agency of the referral that raised the request.
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="share_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, default="")
    #: The participation an approval granted (or the explicit grant that settled the request).
    participation = models.ForeignKey(
        CaseAgency, on_delete=models.PROTECT, null=True, blank=True, related_name="share_requests"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    #: Set before save() or delete(): simple-history names it as the history row's author.
    _history_user: User | None

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "agency"],
                condition=models.Q(status="pending"),
                name="one_pending_share_request_per_agency",
            ),
        ]
        indexes = [models.Index(fields=["case", "status"], name="share_request_case_status_idx")]

    def __str__(self) -> str:
        return f"ShareRequest {self.pk}"  # ids only, never identifying text
