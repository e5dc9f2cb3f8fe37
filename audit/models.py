from __future__ import annotations

from django.db import models

from .fields import IdListField


class AuditEvent(models.Model):
    """One append-only, hash-chained audit event (SPEC §5).

    Events are inserted freely by request handlers; `audit_seal` links them into the chain in a
    short serialised step (`seq`, `prev_hash`, `hash`). Writers never wait on one another, and
    an unsealed event is already protected by the append-only trigger, which lets only the
    sealing columns be set once.
    """

    class Action(models.TextChoices):
        VIEW = "view"
        LIST = "list"
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        EXPORT = "export"
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOCKOUT = "lockout"
        LOGOUT = "logout"
        TOKEN_CREATED = "token_created"
        MFA_CHANGE = "mfa_change"
        PERMISSION_DENIED = "permission_denied"
        TRANSITION = "transition"
        ACCESS_CHANGE = "access_change"
        # A duplicate search (SPEC §2, §5): its detail holds a keyed hash of the query, never its values.
        SEARCH = "search"
        VERIFY = "verify"

    class Outcome(models.TextChoices):
        SUCCESS = "success"
        DENIED = "denied"
        FAILURE = "failure"

    occurred_at = models.DateTimeField(db_index=True)
    # Indexed by audit_actor_idx (actor_id, -id), which leads with it.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_agency = models.CharField(max_length=32, blank=True, default="")
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True, default="")
    youth_id = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    request_id = models.CharField(max_length=64, blank=True, default="")
    client_ip = models.CharField(max_length=45, blank=True, default="")
    #: ids and codes only — never names, dates of birth, narratives or note text.
    detail = models.JSONField(default=dict, blank=True)
    #: A list page's one event: the ids of the objects shown and of the youth they concern
    #: (SPEC §5: "who looked at this child" stays one indexed query — GIN on PostgreSQL).
    object_ids = IdListField(null=True, blank=True)
    youth_ids = IdListField(null=True, blank=True)
    #: HMAC-SHA-256 (HARBOR_AUDIT_KEY) over the whole event, its id included, computed by the
    #: application as it writes the event: a row written with database access alone fails it.
    mac = models.CharField(max_length=64, blank=True, default="")
    # The chain, set once by audit_seal.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["youth_id", "-id"], name="audit_youth_idx"),
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx"),
            models.Index(fields=["actor_id", "-id"], name="audit_actor_idx"),
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
            # PostgreSQL also has a GIN index on youth_ids (audit_youth_ids_gin, migration 0004).
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain's head (SPEC §5), append-only like the events. The same
    line also goes to the application log and to HARBOR_AUDIT_CHECKPOINT_FILE: this table is
    one copy, the one an attacker of the database could also delete — the others are not."""

    created_at = models.DateTimeField()
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    count = models.BigIntegerField()
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint seq {self.seq}"


class AuditVerifyJob(models.Model):
    """A verification of a large log, run by the worker and polled by the auditor."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    requested_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    #: The verification's result: ids, sequence numbers, counts and kinds — no event content.
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"verify job {self.pk} ({self.status})"
