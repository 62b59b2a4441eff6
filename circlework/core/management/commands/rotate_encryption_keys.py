"""Re-encrypt every encrypted column with the newest key in FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from circlework.core.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt sensitive text with the first (newest) key; then the old key can be removed."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            for field in fields:
                table = model._meta.db_table
                column, pk = str(field.column), str(model._meta.pk.column)
                qn = connection.ops.quote_name
                # Identifiers come from model metadata, values are parameters.
                select = f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} WHERE {qn(column)} <> ''"  # noqa: S608
                update = f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s"  # noqa: S608
                with connection.cursor() as cursor:
                    cursor.execute(select)
                    rows = cursor.fetchall()
                    for row_pk, stored in rows:
                        cursor.execute(update, [rotate(stored), row_pk])
                total += len(rows)
                self.stdout.write(
                    f"{model._meta.label}.{field.name}: {len(rows)} values re-encrypted"
                )
        self.stdout.write(f"done: {total} values")
