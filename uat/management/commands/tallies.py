"""Check the dashboard tallies against the executions, or rebuild them:
`python manage.py tallies` (exit 1 when they disagree), `--rebuild` to recount."""

from django.core.management.base import BaseCommand, CommandError

from uat.tallies import tallies_check, tallies_rebuild


class Command(BaseCommand):
    help = (
        "Check the dashboard's tallies (runs per tester, results per hour) against the "
        "executions; --rebuild recounts them, for instance after a data-only restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Recount the tallies.")

    def handle(self, *args, rebuild: bool, **options):
        if rebuild:
            rows = tallies_rebuild()
            self.stdout.write(f"Rebuilt the tallies: {rows:,} rows.")
            return
        problems = tallies_check()
        if problems:
            for problem in problems[:20]:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(problems):,} tallies disagree with the executions; "
                "run `manage.py tallies --rebuild`."
            )
        self.stdout.write("The tallies agree with the executions.")
