"""Operators create a federation; after that, circles found themselves in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.circles import covenant
from circlework.circles.roles import Method
from circlework.circles.services import federation_create
from circlework.core.errors import ApplicationError


def _role_setting(value: str) -> tuple[str, str]:
    """ "coordinator=2" → ("coordinator", "2")."""
    role, sep, setting = value.partition("=")
    if not sep or not role.strip() or not setting.strip():
        raise CommandError(f"Give a role and a value, as role=value (not “{value}”).")
    return role.strip(), setting.strip()


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
            help="Current links a circle needs to be validated.",
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
            "--role-seats",
            action="append",
            default=[],
            metavar="ROLE=N",
            help="How many people hold a federation role at a time, e.g. coordinator=2 "
            "(repeat for each role).",
        )
        parser.add_argument(
            "--role-method",
            action="append",
            default=[],
            metavar="ROLE=METHOD",
            help="How a federation role is elected: consent, stv, irv (instant runoff, one "
            "seat) or approval, e.g. registrar=irv (repeat for each role).",
        )
        parser.add_argument(
            "--review-months",
            type=int,
            default=covenant.DEFAULT_REVIEW_MONTHS,
            help="When the covenant is due for review, after its adoption.",
        )

    def _roles(self, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The covenant's role settings from --role-seats and --role-method (checked, with the
        other rules, by covenant_parameters_check)."""
        roles: dict[str, dict[str, Any]] = {}
        for value in options["role_seats"]:
            role, seats = _role_setting(value)
            try:
                roles.setdefault(role, {})["seats"] = int(seats)
            except ValueError:
                raise CommandError(f"Give {role}'s seats as a whole number.") from None
        for value in options["role_method"]:
            role, method = _role_setting(value)
            roles.setdefault(role, {})["method"] = Method.parse(method) or method
        return roles

    def handle(self, *args: Any, **options: Any) -> None:
        roles = self._roles(options)
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
                    **({"roles": roles} if roles else {}),
                },
            )
        except ApplicationError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {federation.name} at {federation.get_absolute_url()}")
