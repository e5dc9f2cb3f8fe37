from celery import shared_task

from .services.chain import audit_seal
from .services.checkpoints import audit_checkpoint


@shared_task(name="audit.tasks.audit_seal_task", ignore_result=True)
def audit_seal_task() -> int:
    return audit_seal()


@shared_task(name="audit.tasks.audit_checkpoint_task", ignore_result=True)
def audit_checkpoint_task() -> int:
    """Beat runs this every 5 minutes (SPEC §5: at least every 10): the same code as
    `manage.py audit_checkpoint`."""
    return audit_checkpoint().seq


@shared_task(name="audit.tasks.audit_verify_task", ignore_result=True)
def audit_verify_task(job_id: int) -> None:
    from .services.verify import audit_verify_job_run

    audit_verify_job_run(job_id=job_id)
