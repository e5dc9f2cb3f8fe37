"""Reference data, idempotently: agencies, then each app's own (`<app>/bootstrap.py: run()`)."""

from importlib import import_module

from django.core.management.base import BaseCommand

from accounts.services import agencies_bootstrap

APPS_WITH_REFERENCE_DATA = ["cases", "mdt", "notifications"]


class Command(BaseCommand):
    help = "Create the partner agencies, MDT teams, indicator codes and deadline rules (idempotent)."

    def handle(self, *args, **options):
        created = agencies_bootstrap()
        self.stdout.write(f"agencies: {created} created")
        for app in APPS_WITH_REFERENCE_DATA:
            try:
                module = import_module(f"{app}.bootstrap")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.bootstrap":
                    raise
                continue
            summary = module.run()
            self.stdout.write(f"{app}: {summary}")
        self.stdout.write(self.style.SUCCESS("bootstrap complete"))
