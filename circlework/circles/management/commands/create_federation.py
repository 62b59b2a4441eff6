"""Operators create a federation; after that, circles found themselves in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.circles import covenant
from circlework.circles.services import federation_create
from circlework.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create a federation with its covenant (Markdown file) and the rules that covenant sets. "
        "Later changes to the covenant go through a federation proposal the circles agree."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--covenant-file", type=Path, required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--min-circle-size", type=int, default=covenant.DEFAULT_MIN_CIRCLE_SIZE)
        parser.add_argument(
            "--links-required",
            type=int,
            default=covenant.DEFAULT_LINKS_REQUIRED,
            help="Live links a circle needs to be validated.",
        )
        parser.add_argument(
            "--link-lapse-months",
            type=int,
            default=covenant.DEFAULT_LINK_LAPSE_MONTHS,
            help="How long a validation link lasts.",
        )
        parser.add_argument(
            "--no-closed-triangles",
            action="store_true",
            help="A circle and its link circles must not form a closed triangle.",
        )
        parser.add_argument(
            "--officer-electorate",
            choices=[covenant.OfficerElectorate.DELEGATES, covenant.OfficerElectorate.MEMBERS],
            default=covenant.OfficerElectorate.DELEGATES,
            help="Who elects the federation's officers.",
        )
        parser.add_argument(
            "--review-months",
            type=int,
            default=covenant.DEFAULT_REVIEW_MONTHS,
            help="When the covenant is due for review, after its adoption.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            federation = federation_create(
                actor=None,
                name=options["name"],
                covenant=options["covenant_file"].read_text(encoding="utf-8"),
                description=options["description"],
                covenant_parameters={
                    "min_circle_size": options["min_circle_size"],
                    "links_required": options["links_required"],
                    "link_lapse_months": options["link_lapse_months"],
                    "no_closed_triangles": options["no_closed_triangles"],
                    "officer_electorate": options["officer_electorate"],
                    "review_months": options["review_months"],
                },
            )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {federation.name} at {federation.get_absolute_url()}")
