"""Check the audit events' hash chain: `python manage.py verify_audit`. Exit status 1 on a break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from circlework.core.audit import verify
from circlework.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify that the audit history is intact (hash chain over every event)."

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = list(verify())
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
