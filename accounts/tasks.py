"""Celery tasks of accounts/: thin, idempotent."""

from __future__ import annotations

from celery import shared_task

from .services import tokens_purge_expired


@shared_task(name="accounts.tasks.tokens_purge_expired_task", ignore_result=True)
def tokens_purge_expired_task() -> int:
    """Hourly (beat): delete expired API tokens (they are refused anyway; this keeps the table
    small now that authentication no longer tidies a user's other tokens on every request)."""
    return tokens_purge_expired()
