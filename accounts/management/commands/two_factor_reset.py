"""Reset a person's two-factor authentication when they lost their phone and their
backup codes: `python manage.py two_factor_reset EMAIL`."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator app and backup codes, so they sign in with their "
        "password and set two-factor authentication up again (at once when their role "
        "requires it). Audited as user.two_factor_reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The email address the person signs in with.")

    def handle(self, *args, email: str, **options):
        user = User.objects.by_email(email).first()
        if user is None:
            raise CommandError(f"No account has the email address {email}.")
        if services.two_factor_reset(user=user, actor=None):
            self.stdout.write(f"Two-factor authentication of {user.email} is reset.")
        else:
            self.stdout.write(f"{user.email} has no two-factor authentication to reset.")
