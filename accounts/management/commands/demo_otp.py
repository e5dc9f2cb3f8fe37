"""Print the current one-time code of a demo admin's authenticator (demo data only)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.demo import demo_otp_code
from accounts.models import User
from core.environments import refuse_unless_non_production


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo user (the demo's stand-in for a phone)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        refuse_unless_non_production("demo_otp")
        user = User.objects.filter(username=options["username"], email__endswith="@example.invalid").first()
        if user is None:
            raise CommandError("No such demo user.")
        self.stdout.write(demo_otp_code(user))
