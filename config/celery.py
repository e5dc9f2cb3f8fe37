"""The Celery application.

The database is the source of truth; the broker only carries work. Tasks are acknowledged
late and re-queued when a worker dies, so a killed worker never loses a message; every task
is idempotent so a redelivered one never doubles its effect.
"""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("safe_harbor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**kwargs):  # type: ignore[no-untyped-def]
    """Workers and beat log through Django's LOGGING (structured, secrets masked) instead of
    Celery's own root-logger set-up."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
