"""Build a large data set for the benchmark: `python manage.py seed_scale`."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench.scale import ScaleSpec, build_scale
from uat.models import Execution

DEFAULTS = ScaleSpec()


class Command(BaseCommand):
    help = (
        "Build a separate product bench-<n> with many cases, testers, executions (with "
        "retest history) and defects, using bulk inserts. Each run adds a new product."
    )

    def add_arguments(self, parser):
        for name, about in (
            ("cases", "ready cases in the library"),
            ("steps", "steps per case"),
            ("requirements", "requirements the cases cover"),
            ("plans", "plans: alpha, beta, alpha, ... two per release"),
            ("testers", "testers, spread over the cohorts"),
            ("cohorts", "cohorts, alternately alpha (internal) and beta (external)"),
            ("executions", "executions in all, retests included"),
            ("defects", "defects, each linked to a failed execution"),
            ("seed", "seed of the random choices"),
        ):
            default = getattr(DEFAULTS, name)
            parser.add_argument(
                f"--{name}", type=int, default=default, help=f"{about} (default {default:,})"
            )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Build even with DEBUG off. The users share the published demo password.",
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real deployment: the benchmark data adds "
                "users whose password is published. Use --force if you really want it here."
            )
        fields = ScaleSpec.__dataclass_fields__
        spec = ScaleSpec(**{name: options[name] for name in fields})
        started = time.perf_counter()

        def progress(text: str) -> None:
            self.stderr.write(f"[{time.perf_counter() - started:6.1f}s] {text}")

        try:
            product = build_scale(spec, progress=progress)
        except ValueError as error:
            raise CommandError(str(error)) from None
        executions = Execution.objects.filter(plan__release__product=product).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Built {product.slug}: {spec.cases:,} cases, {executions:,} executions, "
                f"{spec.defects:,} defects in {time.perf_counter() - started:.1f}s."
            )
        )
