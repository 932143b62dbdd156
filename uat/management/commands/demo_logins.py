"""Print how to sign in to the demo: `python manage.py demo_logins`."""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from uat.demo import DEMO_LOGINS


class Command(BaseCommand):
    help = "Print the demo URL, the demo logins with their roles, and the demo password."

    def handle(self, *args, **options):
        existing = set(
            User.objects.filter(email__in=[person.email for person in DEMO_LOGINS]).values_list(
                "email", flat=True
            )
        )
        width = max(len(person.email) for person in DEMO_LOGINS)
        self.stdout.write(
            f"Greenlight demo: {settings.SITE_URL}/ (testers sign in here; QA leads also at "
            f"{settings.SITE_URL}/admin/)"
        )
        for person in DEMO_LOGINS:
            missing = "" if person.email in existing else "  (not in this database)"
            self.stdout.write(
                f"  {person.email:<{width}}  {person.role.label:<11}  {person.full_name}, "
                f"{person.about}{missing}"
            )
        self.stdout.write(f"Password for all of them: {settings.DEMO_PASSWORD}")
