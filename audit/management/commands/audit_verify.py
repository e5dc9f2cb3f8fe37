from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services.chain import audit_seal
from audit.services.checkpoints import default_checkpoints
from audit.services.verify import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute every audit event's MAC, the hash chain and the checkpoints; name the first broken "
        "event and the kind of each tampering."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seal", action="store_true", help="seal pending events first")
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a file of checkpoints (JSON lines, or log lines ending in one) to check against; repeatable",
        )

    def handle(self, *args: str, **options: Any) -> None:
        if options["seal"]:
            audit_seal()
        try:
            checkpoints, unreadable = default_checkpoints(options["checkpoint"])
        except OSError as exc:
            raise CommandError(f"cannot read the checkpoint file: {exc.strerror}") from None
        result = audit_verify(checkpoints=checkpoints, unreadable_checkpoints=unreadable)
        if not result.ok:
            for finding in result.findings:
                where = f"event {finding.event_id}" if finding.event_id is not None else "-"
                seq = f"seq {finding.seq}" if finding.seq is not None else "unsealed"
                self.stderr.write(f"  {finding.kind}: {where} ({seq}): {finding.reason}")
            at = f"event {result.broken_event_id}" if result.broken_event_id is not None else f"seq {result.broken_seq}"
            raise CommandError(
                f"BROKEN at {at}: {result.kind}: {result.reason} "
                f"({len(result.findings)} finding(s); {result.checked} sealed events checked)"
            )
        suffix = f" ({result.unsealed} awaiting seal)" if result.unsealed else ""
        self.stdout.write(f"OK {result.checked} events{suffix}")
