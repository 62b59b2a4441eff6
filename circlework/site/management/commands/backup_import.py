"""Restore a backup into an empty, migrated database: `manage.py backup_import FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.core.audit import verify
from circlework.core.models import AuditEvent
from circlework.site.backup import BackupError, import_backup


class Command(BaseCommand):
    help = (
        "Import a backup made by backup_export into this database, which must be freshly "
        "migrated and empty. Then checks the audit history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The .tar.gz written by backup_export.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            summary = import_backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for label, count in summary.counts.items():
            if count:
                self.stdout.write(f"  {label}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.rows} records and {summary.files} files ({summary.scope})."
            )
        )
        breaks = list(verify())
        total = AuditEvent.objects.count()
        if breaks:
            for b in breaks:
                self.stderr.write(f"Audit event {b.event_id}: {b.problem}")
            raise CommandError(
                f"The data is imported, but its audit history is broken in {len(breaks)} "
                f"{'place' if len(breaks) == 1 else 'places'} of {total} events: it was already broken in the backup."
            )
        self.stdout.write(self.style.SUCCESS(f"The audit history is intact: {total} events."))
