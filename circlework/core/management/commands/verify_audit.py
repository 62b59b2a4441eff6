"""Check the audit events' hash chain: `python manage.py verify_audit`. Exit status 1 on a break.

Events committed a moment ago may still be waiting for their seal (see circlework.core.audit):
the command seals them first, then checks the whole chain. Events that waited long for their
seal are listed as notices: they are in the chain, but nothing vouched for them while they
waited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from circlework.core.audit import late_seals, seal_pending, verify
from circlework.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify that the audit history is intact (hash chain over every event)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Only read: do not seal events waiting for their seal (e.g. on a replica); "
            "an event waiting too long is then a break.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            sealed = seal_pending()
            if sealed:
                self.stdout.write(
                    f"Sealed {sealed} {'event' if sealed == 1 else 'events'} that were waiting for their seal."
                )
        breaks = list(verify())
        total = AuditEvent.objects.count()
        for notice in late_seals():
            self.stderr.write(f"Notice: audit event {notice.event_id} {notice.problem}.")
        for b in breaks:
            self.stderr.write(f"Audit event {b.event_id}: {b.problem}")
        if breaks:
            raise CommandError(
                f"The audit history is broken in {len(breaks)} {'place' if len(breaks) == 1 else 'places'} of {total} events."
            )
        self.stdout.write(
            self.style.SUCCESS(f"The audit history is intact: {total} events checked.")
        )
        last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first()
        if last is not None:
            # Kept elsewhere, this pins the history up to here: a later check must still reach it.
            self.stdout.write(f"Last sealed event: {last.seq}, hash {last.hash}")
