"""Check the audit events' hash chain: `python manage.py verify_audit`. Exit status 1 on a break.

Events committed a moment ago may still be waiting for their seal (see circlework.core.audit):
the command seals them first, then checks the whole chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.core.audit import overdue, seal_pending, verify
from circlework.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify that the audit history is intact (hash chain over every event)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Only read: do not seal events waiting for their seal (e.g. on a replica).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = list(verify()) if options["no_seal"] else []
        # Read before sealing: an event that waited too long is reported even though it is
        # sealed now, because nothing vouched for it while it waited.
        if not options["no_seal"]:
            waited = list(overdue())
            sealed = seal_pending()
            if sealed:
                self.stdout.write(f"Sealed {sealed} event(s) that were waiting for their seal.")
            breaks = waited + list(verify())
        total = AuditEvent.objects.count()
        for b in breaks:
            self.stderr.write(f"Audit event {b.event_id}: {b.problem}")
        if breaks:
            raise CommandError(
                f"The audit history is broken in {len(breaks)} place(s) of {total} events."
            )
        self.stdout.write(
            self.style.SUCCESS(f"The audit history is intact: {total} events checked.")
        )
