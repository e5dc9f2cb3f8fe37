"""Synthetic demo data for local use. Refuses to run under production settings."""

from importlib import import_module

from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, seed_demo_users
from core.environments import refuse_unless_non_production

APPS_WITH_DEMO_DATA = ["cases", "mdt", "notifications"]


class Command(BaseCommand):
    help = "Create synthetic demo users (one per role per partner agency) and demo cases."

    def handle(self, *args, **options):
        refuse_unless_non_production("seed_demo")
        call_command("bootstrap", stdout=self.stdout)
        rows = seed_demo_users()
        for app in APPS_WITH_DEMO_DATA:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            summary = module.seed_demo()
            self.stdout.write(f"{app}: {summary}")
        self.stdout.write("\nDemo logins (synthetic people; every password is the same):")
        for username, agency, role in rows:
            self.stdout.write(f"  {username:<28} {agency:<10} {role}")
        self.stdout.write(f"  password: {DEMO_PASSWORD}")
        self.stdout.write(
            "  admin roles (agency_admin, sysadmin, auditor) also need a one-time code, on the API (`otp`)\n"
            "  and the admin site: `.venv/bin/python manage.py demo_otp <username>` prints the current one.\n"
        )
