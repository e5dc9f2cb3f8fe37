from __future__ import annotations

from accounts.models import Agency


class AccessReportAgency(Agency):
    """The admin's "Access reports" page lists agencies through this proxy (no table of its
    own): one row per agency the admin may review, with the download button."""

    class Meta:
        proxy = True
        verbose_name = "access report"
        verbose_name_plural = "access reports"
