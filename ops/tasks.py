from celery import shared_task

from .watchdog import watchdog_check


@shared_task(name="ops.tasks.watchdog_task", ignore_result=True)
def watchdog_task() -> bool:
    """Beat runs it every minute (the workers' own timers cover the case where beat stops)."""
    return watchdog_check().sweep_ok
