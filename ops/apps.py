from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running it (SPEC §7): heartbeats, readiness, the watchdog, logs, metrics, error reports."""

    name = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the Celery signal receivers)
