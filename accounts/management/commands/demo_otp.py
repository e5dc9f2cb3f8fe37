"""Print the current one-time code of a demo admin's authenticator (demo data only)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.demo import demo_otp_code
from accounts.models import User
from core.environments import refuse_unless_non_production
from core.permissions import MFA_ROLES


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo user (the demo's stand-in for a phone)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_unless_non_production("demo_otp")
        user = User.objects.filter(username=options["username"], email__endswith="@example.invalid").first()
        if user is None:
            raise CommandError("No such demo user.")
        if user.effective_role not in MFA_ROLES:
            # Enrolling an authenticator here would lock the user out of the documented login
            # (username and password only): the codes are for the demo admins.
            raise CommandError(
                "Only the demo admins (agency_admin, sysadmin, auditor) sign in with a one-time code; "
                "this user signs in with the username and password alone."
            )
        self.stdout.write(demo_otp_code(user))
