"""Build a large, realistic federation fast, for measuring Circlework at scale.

python manage.py seed_scale --practitioners 3000 --circles 400 --records 300000 --seed 1
python manage.py seed_scale ... --federation northern-practitioners-network

Bulk inserts (not one service call per row), deterministic from the seed, additive: on an
empty database it makes a federation; otherwise it grows the one with the most circles (the
demo's, after seed_demo), or the one named. See circlework/demo/scale/.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from circlework.demo.scale.accounts import email_for
from circlework.demo.scale.run import SCALE_PASSWORD, seed_scale


class Command(BaseCommand):
    help = "Generate a large federation (practitioners, circles and their records) in bulk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practitioners", type=int, default=300)
        parser.add_argument("--circles", type=int, default=40)
        parser.add_argument("--records", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--federation", default=None, help="The federation's slug (default: the largest)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options.get("verbosity", 1) >= 1
        result = seed_scale(
            practitioners=options["practitioners"],
            circles_count=options["circles"],
            records=options["records"],
            seed=options["seed"],
            federation_slug=options.get("federation"),
            say=self.stdout.write if verbose else None,
        )
        if not verbose:
            return
        self.stdout.write(f"Federation: {result.federation}")
        for label, n in result.counts.items():
            self.stdout.write(f"  {label:36} {n:>10,}")
        self.stdout.write(
            f"{result.records:,} activity records in {result.seconds:.1f} s "
            f"({sum(result.counts.values()):,} rows in all)."
        )
        if options["practitioners"]:
            self.stdout.write(
                f"Generated accounts, e.g. {email_for(options['seed'], 0)} "
                f"(password for all: {SCALE_PASSWORD})"
            )
