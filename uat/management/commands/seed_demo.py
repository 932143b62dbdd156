"""Load the Acme CRM demo: `python manage.py seed_demo`."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from uat.demo import build_demo, demo_counts, demo_exists
from uat.models import Product


class Command(BaseCommand):
    help = (
        "Load the Acme CRM demo: release 2.4 with an alpha and a beta plan, cohorts, cases, "
        "executions, defects and the demo logins. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only seed a database without any product (what `make run` uses).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off. The demo users share a published password.",
        )

    def handle(self, *args, if_empty: bool, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real deployment: the demo adds users "
                "whose password is published. Use --force if you really want the demo here."
            )
        if if_empty and Product.objects.exists():
            self.stdout.write("The database already has products; skipping the demo data.")
            return
        if demo_exists():
            self.stdout.write("The Acme CRM demo is already loaded; nothing to do.")
            return
        started = time.perf_counter()
        product = build_demo()
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Loaded the {product} demo in {elapsed:.1f}s."))
        for name, counts in demo_counts(product).items():
            listed = ", ".join(f"{value} {key}" for key, value in sorted(counts.items()))
            self.stdout.write(f"  {name}: {sum(counts.values())} ({listed})")
