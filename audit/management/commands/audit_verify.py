from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_seal, audit_verify


class Command(BaseCommand):
    help = "Recompute the audit hash chain and name the first broken event."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--seal", action="store_true", help="seal pending events first")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["seal"]:
            audit_seal()
        result = audit_verify()
        if not result.ok:
            raise CommandError(f"BROKEN at event {result.broken_event_id}: {result.reason} ({result.checked} verified before it)")
        suffix = f" ({result.unsealed} awaiting seal)" if result.unsealed else ""
        self.stdout.write(f"OK {result.checked} events{suffix}")
