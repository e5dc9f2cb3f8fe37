from __future__ import annotations

from django.db import models

from accounts.models import Agency


class AccessReportAgency(Agency):
    """The admin's "Access reports" page lists agencies through this proxy (no table of its
    own): one row per agency the admin may review, with the download button."""

    class Meta:
        proxy = True
        verbose_name = "access report"
        verbose_name_plural = "access reports"


class OversightSettings(models.Model):
    """The thresholds of the access-oversight alerts (SPEC §9), one row, set by a system admin in
    the admin. A reader is flagged when, within the window, they open the records of more than
    `bulk_reads` youth outside their caseload, run more than `duplicate_searches` duplicate
    searches, or open more than `unusual_hour_reads` records between the unusual hours."""

    window_minutes = models.PositiveIntegerField(default=10)
    bulk_reads = models.PositiveIntegerField(default=50, help_text="Youth outside the caseload per window.")
    duplicate_searches = models.PositiveIntegerField(default=20, help_text="Duplicate searches per window.")
    unusual_hour_reads = models.PositiveIntegerField(default=10, help_text="Records opened per unusual-hours night.")
    unusual_from_hour = models.PositiveSmallIntegerField(default=22, help_text="Local hour (0-23) they start.")
    unusual_to_hour = models.PositiveSmallIntegerField(default=6, help_text="Local hour (0-23) they end.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "access oversight settings"
        verbose_name_plural = "access oversight settings"

    def __str__(self) -> str:
        return "Access oversight settings"

    @classmethod
    def current(cls) -> OversightSettings:
        return cls.objects.order_by("pk").first() or cls()


class AccessAlert(models.Model):
    """One access anomaly found in the audit log: ids and counts only (SPEC §9)."""

    class Kind(models.TextChoices):
        BULK_READS = "bulk_reads", "Bulk reads outside the caseload"
        DUPLICATE_SEARCHES = "duplicate_searches", "Burst of duplicate searches"
        UNUSUAL_HOURS = "unusual_hours", "Reads at unusual hours"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    reader_id = models.BigIntegerField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["reader_id", "kind", "-window_end"], name="access_alert_reader_idx")]

    def __str__(self) -> str:
        return f"Access alert {self.pk}: {self.kind} by user {self.reader_id}"
