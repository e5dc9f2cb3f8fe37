"""One sweep now, synchronously: the same code the beat task runs every minute."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.services.delivery import notification_send_pending
from notifications.services.sweep import deadlines_sweep


class Command(BaseCommand):
    help = "Run one deadline sweep now (the beat task's code) and print what it did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--send",
            action="store_true",
            help="Also send the pending emails in this process instead of leaving them to a worker.",
        )

    def handle(self, *args: str, **options: Any) -> None:
        result = deadlines_sweep()
        self.stdout.write(
            f"deadlines swept: {result.deadlines}; notifications created: {result.notifications}; "
            f"newly missed: {result.missed}; sends re-enqueued: {result.redelivered}"
        )
        if options["send"]:
            sent = notification_send_pending()
            self.stdout.write(f"emails sent: {sent}")
