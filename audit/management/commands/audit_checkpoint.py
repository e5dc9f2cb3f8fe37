from typing import Any

from django.core.management.base import BaseCommand

from audit.services.checkpoints import audit_checkpoint


class Command(BaseCommand):
    help = "Seal pending audit events and write a signed checkpoint of the chain's head now."

    def handle(self, *args: str, **options: Any) -> None:
        checkpoint = audit_checkpoint()
        self.stdout.write(checkpoint.line())
