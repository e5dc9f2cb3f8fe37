"""County- or state-size synthetic data for the benchmark. Refuses production settings."""

import time

from django.core.management.base import BaseCommand, CommandError

from core.environments import refuse_unless_non_production
from scale.seed import SIZES, run


class Command(BaseCommand):
    help = (
        "Load county-size (10k youth, 30k referrals, 1M audit events, …) or state-size (ten times that) "
        "synthetic data with PostgreSQL COPY. Resumable: finished stages are skipped."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--size", choices=sorted(SIZES), default="county")
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        refuse_unless_non_production("seed_scale")
        started = time.perf_counter()
        self.stdout.write(f"seed_scale --size {options['size']}")
        try:
            written = run(options["size"], out=self.stdout.write, quiet=options["quiet"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(written.values())
        self.stdout.write(self.style.SUCCESS(f"seed_scale: {total:,} rows in {time.perf_counter() - started:.1f} s"))
