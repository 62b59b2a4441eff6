"""Write a portable backup: `manage.py backup_export --output FILE [--circle SLUG]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.circles.models import Circle
from circlework.site.backup import BackupError, export_circle, export_instance


class Command(BaseCommand):
    help = (
        "Export the whole instance (or one circle, for moving it to its own server) with its "
        "files to a .tar.gz that backup_import restores into an empty database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="The .tar.gz file to write.")
        parser.add_argument("--circle", help="Export only this circle (its slug).")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite the output file if it exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"])
        if path.exists() and not options["force"]:
            raise CommandError(f"{path} exists; choose another name or pass --force.")
        try:
            if options["circle"]:
                circle = Circle.objects.filter(slug=options["circle"]).first()
                if circle is None:
                    raise CommandError(f"No circle with the slug {options['circle']!r}.")
                summary = export_circle(circle, path)
            else:
                summary = export_instance(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in summary.counts.items():
            if count:
                self.stdout.write(f"  {label}: {count}")
        for ref, count in summary.cut_references.items():
            self.stdout.write(
                f"  left out: {count} {'reference' if count == 1 else 'references'} of {ref} to records not exported"
            )
        for name in summary.missing_files:
            self.stderr.write(f"  missing file (its record is kept): {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {summary.rows} records and {summary.files} files ({summary.scope}) "
                f"to {path}."
            )
        )
