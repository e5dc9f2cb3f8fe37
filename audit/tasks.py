from celery import shared_task

from .services import audit_seal


@shared_task(name="audit.tasks.audit_seal_task", ignore_result=True)
def audit_seal_task() -> int:
    return audit_seal()
