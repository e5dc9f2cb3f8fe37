from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from core.permissions import ADMIN_ROLES, Role


class Agency(models.Model):
    class Kind(models.TextChoices):
        MENTAL_HEALTH = "mental_health", "Mental health"
        PROBATION = "probation", "Probation"
        CHILD_WELFARE = "child_welfare", "Child welfare"
        LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"
        PROSECUTION = "prosecution", "Prosecution"
        DEFENSE = "defense", "Defense"
        ADVOCACY = "advocacy", "Advocacy"
        COURT = "court", "Court"
        OTHER = "other", "Other"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.OTHER)
    is_active = models.BooleanField(default=True)
    #: An agency whose analysts read the county's reports, not only their own agency's (SPEC §1
    #: names `COURT`): set by a system admin; analysts of any other agency read their own.
    is_county_wide = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "agencies"
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z][A-Z0-9_]*$"), name="agency_code_upper"),
        ]

    def __str__(self) -> str:
        return self.code


class HarborUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.SYSTEM_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person at one agency with one role (SPEC §1)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="users", null=True, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CASE_WORKER)
    updated_at = models.DateTimeField(auto_now=True)

    objects = HarborUserManager()  # type: ignore[misc]  # django-stubs declares AbstractUser.objects a ClassVar

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["agency", "role"])]
        constraints = [
            # Only a system admin may stand outside every agency (the bootstrap superuser).
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False) | models.Q(role=Role.SYSTEM_ADMIN),
                name="user_agency_required",
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Staff status (admin-site entry) follows the role; it is never set by hand.
        self.is_staff = self.is_superuser or self.role in ADMIN_ROLES
        if self.is_superuser:
            self.role = Role.SYSTEM_ADMIN
        super().save(*args, **kwargs)

    @property
    def effective_role(self) -> str:
        return Role.SYSTEM_ADMIN if self.is_superuser else self.role

    @property
    def agency_code(self) -> str | None:
        return self.agency.code if self.agency is not None else None
