"""A bench-only Celery task to measure the batched-delivery proposal before it lands: one
message carries up to N notification ids and each one is still sent by
`notifications.services.notification_send` in its own transaction (the at-most-once rule is
unchanged; only the broker round trip and the task overhead are shared). Loaded into the
bench's workers with `--include delivery_batch`; never imported by the product."""

from celery import shared_task

from notifications.services import notification_send


@shared_task(name="bench.notification_send_many_task", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def notification_send_many_task(notification_ids: list[int]) -> int:
    # A production version would re-enqueue a single id whose send asks for a retry
    # (notification_send_task.apply_async([pk], countdown=result.retry_in)); the bench's sends
    # go to the locmem backend and never fail.
    return sum(1 for pk in notification_ids if notification_send(notification_id=pk).outcome == "sent")


@shared_task(
    name="bench.notification_send_many_async_commit_task",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def notification_send_many_async_commit_task(notification_ids: list[int]) -> int:
    """The same, with `synchronous_commit = off` for these sends (the proposal's option (b))."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        return notification_send_many_task(notification_ids)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = on")
