"""Operators create a federation; after that, circles found themselves in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.circles.services import federation_create
from circlework.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a federation with its covenant (Markdown file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--covenant-file", type=Path, required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--min-circle-size", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            federation = federation_create(
                actor=None,
                name=options["name"],
                covenant=options["covenant_file"].read_text(encoding="utf-8"),
                description=options["description"],
                min_circle_size=options["min_circle_size"],
            )
        except (ApplicationError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {federation.name} at {federation.get_absolute_url()}")
