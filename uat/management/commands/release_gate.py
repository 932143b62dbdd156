"""``release_gate``: may a release go to a stage? For pipelines with database access.

Exit status 0 go, 1 no-go, 2 inconclusive (and 2 for an unknown release), so a shell
step can branch on it.
"""

import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from reports.gate import GATE_STAGE_CHOICES, GateDecision, gate_check
from uat.models import Release

EXIT_STATUS = {"go": 0, "no-go": 1, "inconclusive": 2}
POLL_SECONDS = 5


def find_release(spec: str) -> Release:
    """A release by id, or by "<product-slug>:<version>"."""
    releases = Release.objects.select_related("product")
    product, sep, version = spec.partition(":")
    try:
        if sep:
            return releases.get(product__slug=product, version=version)
        if spec.isdigit():
            return releases.get(pk=int(spec))
    except Release.DoesNotExist:
        pass
    raise CommandError(
        f"No release {spec!r}: give a release id or <product-slug>:<version>.", returncode=2
    )


class Command(BaseCommand):
    help = (
        "Print the gate decision for a release and a stage with its reasons. "
        "Exit status: 0 go, 1 no-go, 2 inconclusive."
    )

    def add_arguments(self, parser):
        parser.add_argument("release", help='A release id or "<product-slug>:<version>".')
        parser.add_argument(
            "--stage", required=True, choices=[value for value, _ in GATE_STAGE_CHOICES]
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print the decision as JSON."
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="While the report is still being built, ask again for up to this long.",
        )

    def handle(self, *args, release: str, stage: str, as_json: bool, wait: float, **options):
        found = find_release(release)
        decision = self.decide(found, stage, wait)
        if as_json:
            self.stdout.write(json.dumps(decision.as_dict(), cls=DjangoJSONEncoder, indent=2))
        else:
            self.stdout.write(f"{found} → {stage}: {decision.decision.upper()}")
            for reason in decision.reasons:
                self.stdout.write(f"- {reason}")
        raise SystemExit(EXIT_STATUS[decision.decision])

    def decide(self, release: Release, stage: str, wait: float) -> GateDecision:
        deadline = time.monotonic() + max(wait, 0)
        while True:
            try:
                decision = gate_check(release=release, stage=stage)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages), returncode=2) from None
            left = deadline - time.monotonic()
            if not decision.building or left <= 0:
                return decision
            time.sleep(min(POLL_SECONDS, left))
