"""Build a large, realistic federation fast, for measuring Circlework at scale.

python manage.py seed_scale --practitioners 3000 --circles 400 --records 300000 --seed 1
python manage.py seed_scale ... --federation northern-practitioners-network

Bulk inserts (not one service call per row), deterministic from the seed, additive: on an
empty database it makes a federation; otherwise it grows the one with the most circles (the
demo's, after seed_demo), or the one named. See circlework/demo/scale/.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.accounts.models import User
from circlework.demo.scale.accounts import email_for
from circlework.demo.scale.run import SCALE_PASSWORD, seed_scale

# The demo's addresses (seed_demo) and the generated ones (email_for).
DEMO_DOMAINS = ("@demo.circlework.org", "@scale.circlework.org")


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
        parser.add_argument(
            "--force",
            action="store_true",
            help="Generate even though the database holds accounts other than demo ones.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options.get("verbosity", 1) >= 1
        # It writes made-up members, proposals and notifications into the federation it grows,
        # with one printed password: never into a database that real people use.
        real = User.objects.exclude(email__iendswith=DEMO_DOMAINS[0]).exclude(
            email__iendswith=DEMO_DOMAINS[1]
        )
        if real.exists() and not options["force"]:
            raise CommandError(
                "This database holds accounts that are not demo or generated ones, so it may be "
                "in use. seed_scale is for scratch databases; use --force if this one is."
            )
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
