"""What every part of seed_scale shares: ids, buffered bulk inserts, the audit chain, the clock.

Rows are made in memory as plain dicts (`Row`, with the model's defaults) with their ids chosen
here (one past the largest in the table, or the largest a PostgreSQL sequence gave), so relations
are known before anything is written and the same starting database gives the same ids. They are
written in batches (`executemany` on SQLite, COPY on PostgreSQL), each value prepared as Django
would prepare it (encrypted fields through their own field, so they are stored encrypted), in one
transaction whose foreign keys are checked at commit (Django declares them deferrable), so the
order of the inserts does not matter. Model.__init__ and bulk_create were most of the time at a
million rows. Audit events are sealed as they are made: each carries its place in the chain and
its hash, computed by the chain's own `content_hash`.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from psycopg.types.json import Jsonb

from circlework.core import audit, names, page_cache
from circlework.core.models import AuditEvent

BATCH = 5000  # rows per executemany
FLUSH_AT = 20_000  # rows kept in memory per model before they are written


def today() -> date:
    """The day the generated history leads up to (a function, so a test can fix it)."""
    return datetime.now(UTC).date()


class Row(dict[str, Any]):
    """A row to be written: its values by attribute name, also read as attributes."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def pk(self) -> Any:
        return self["id"]


@dataclass(frozen=True)
class Shape:
    names: frozenset[str]
    auto_id: bool
    defaults: dict[str, Any]  # fixed defaults
    made: tuple[tuple[str, Callable[[], Any]], ...]  # defaults made anew for each row


_SHAPES: dict[type[models.Model], Shape] = {}


def _shape(model: type[models.Model]) -> Shape:
    """A model's columns and defaults, as `Model.__init__` would fill them (read once)."""
    if model not in _SHAPES:
        defaults: dict[str, Any] = {}
        made: list[tuple[str, Callable[[], Any]]] = []
        for f in model._meta.concrete_fields:
            if f.has_default() and callable(f.default):
                made.append((f.attname, f.default))
            else:
                defaults[f.attname] = f.get_default()
        _SHAPES[model] = Shape(
            names=frozenset(f.attname for f in model._meta.concrete_fields),
            auto_id=isinstance(model._meta.pk, models.AutoField | models.BigAutoField),
            defaults=defaults,
            made=tuple(made),
        )
    return _SHAPES[model]


@dataclass
class CircleInfo:
    id: int
    name: str
    slug: str
    founded: datetime
    status: str
    founder: int | None
    is_new: bool
    visibility: str = "public"
    # Current members: practitioner id → when they joined.
    members: dict[int, datetime] = field(default_factory=dict)

    def members_at(self, when: datetime) -> list[int]:
        return sorted(pid for pid, joined in self.members.items() if joined <= when)


@dataclass
class Ref:
    """Something made that notifications may tell of."""

    kind: str
    circle: int | None
    title: str
    url: str
    when: datetime


class Scale:
    def __init__(self, *, seed: int, stdout: Any = None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
        day = today()
        # Midnight (UTC) of today: all generated history is before it, open things after.
        self.base = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.today = day
        self.stdout = stdout
        self._next: dict[type[models.Model], int] = {}
        self._buffers: dict[type[models.Model], list[Row]] = {}
        self.counts: Counter[str] = Counter()
        self.written: set[type[models.Model]] = set()
        self.circles: list[CircleInfo] = []
        self.practitioners: list[int] = []  # new ones
        self.existing_practitioners: list[int] = []
        self.refs: list[Ref] = []
        self.delegates: dict[int, int] = {}  # circle id → its live delegate
        self.federation_id = 0
        self.federation_slug = ""
        self.federation_name = ""
        self._digests: dict[int, str] = {}
        self._seq = 0
        self._prev = audit.GENESIS

    # --- time -------------------------------------------------------------------------

    def ago(self, days: float, jitter_hours: float = 0.0) -> datetime:
        """A moment `days` before the base, moved by up to `jitter_hours`, whole seconds."""
        extra = self.rng.uniform(0, jitter_hours) if jitter_hours else 0.0
        return (self.base - timedelta(days=days, hours=extra)).replace(microsecond=0)

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        span = (end - start).total_seconds()
        return start + timedelta(seconds=int(self.rng.uniform(0, span)))

    # --- rows -------------------------------------------------------------------------

    def next_id(self, model: type[models.Model]) -> int:
        if model not in self._next:
            self._next[model] = self._first_free_id(model)
        value = self._next[model]
        self._next[model] = value + 1
        return value

    def _first_free_id(self, model: type[models.Model]) -> int:
        largest = model._default_manager.aggregate(m=Max("pk"))["m"] or 0
        if connection.vendor == "postgresql":
            # Never reuse an id the sequence already gave (names.py relies on it).
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                row = cursor.fetchone()
                if row and row[0]:
                    cursor.execute(f"SELECT last_value, is_called FROM {row[0]}")  # noqa: S608
                    last, called = cursor.fetchone() or (0, False)
                    if called:
                        largest = max(largest, int(last))
        return int(largest) + 1

    def add(self, model: type[models.Model], **values: Any) -> Any:
        """A new row of `model` with its id chosen now; written later, in a batch. Values by
        attribute name (`circle_id`), the model's defaults for the rest."""
        shape = _shape(model)
        if shape.auto_id and "id" not in values:
            values["id"] = self.next_id(model)
        unknown = values.keys() - shape.names
        if unknown:
            raise TypeError(f"{model._meta.label} has no field {sorted(unknown)}")
        row = Row(shape.defaults)
        for name, make in shape.made:
            if name not in values:
                row[name] = make()
        row.update(values)
        buffer = self._buffers.setdefault(model, [])
        buffer.append(row)
        if len(buffer) >= FLUSH_AT:
            self.flush(model)
        return row

    def flush(self, model: type[models.Model] | None = None) -> None:
        targets = [model] if model is not None else list(self._buffers)
        for m in targets:
            rows = self._buffers.get(m) or []
            if not rows:
                continue
            self._buffers[m] = []
            insert(m, rows)
            self.counts[m._meta.label] += len(rows)
            self.written.add(m)

    def reset_sequences(self) -> None:
        """On PostgreSQL, move each table's sequence past the ids chosen here."""
        if connection.vendor != "postgresql" or not self.written:
            return
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.written))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    # --- audit ------------------------------------------------------------------------

    def start_chain(self) -> None:
        """Continue the chain from its last sealed event (the caller sealed pending ones and
        holds the chain's lock)."""
        last = (
            AuditEvent.objects.filter(seq__isnull=False)
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        self._seq, self._prev = (last[0] or 0, last[1]) if last is not None else (0, audit.GENESIS)

    def digest(self, practitioner_id: int | None) -> str:
        if practitioner_id is None:
            return ""
        if practitioner_id not in self._digests:
            self._digests[practitioner_id] = audit.actor_digest(practitioner_id)
        return self._digests[practitioner_id]

    def audit(
        self,
        *,
        actor: int | None,
        verb: str,
        object_type: str,
        object_id: int | str,
        summary: str,
        when: datetime,
        circle: int | None = None,
        federation: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """One sealed audit event, as `audit.record` and `seal_pending` would leave it."""
        if circle is not None and federation is None:
            federation = self.federation_id
        event = Row(
            id=self.next_id(AuditEvent),
            created_at=when,
            actor_id=actor,
            actor_digest=self.digest(actor),
            by_system=actor is None,
            verb=verb,
            object_type=object_type,
            object_id=str(object_id),
            summary=names.clip(names.Stored(summary), 400),  # already in stored form
            circle_id=circle,
            federation_id=federation,
            data=json.loads(json.dumps(data or {}, default=str)),
        )
        self._seq += 1
        event["seq"] = self._seq
        event["sealed_at"] = when + timedelta(seconds=2)
        event["prev_hash"] = self._prev
        # The chain's own hash, over the row as it will read back (attributes as on the model).
        event["hash"] = audit.content_hash(cast(AuditEvent, event), self._prev)
        self._prev = event["hash"]
        buffer = self._buffers.setdefault(AuditEvent, [])
        buffer.append(event)
        if len(buffer) >= FLUSH_AT:
            self.flush(AuditEvent)

    def say(self, text: str) -> None:
        if self.stdout is not None:
            self.stdout.write(text)


# Fields whose Python value is the database's value on both SQLite and PostgreSQL.
_PLAIN = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,  # SlugField, EmailField too
    models.ForeignKey,  # OneToOneField too
    models.IntegerField,  # the positive and small ones too
    models.BigIntegerField,
)


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """How one field's value goes to the database: what Django's `get_db_prep_save` does, with
    the common cases done directly (that call is most of the cost of a bulk insert)."""
    if isinstance(field, models.TextField) and type(field) is models.TextField:
        return _same
    if isinstance(field, _PLAIN):
        return _same
    if type(field) is models.DateTimeField and connection.vendor == "sqlite":
        return _sqlite_datetime
    if type(field) is models.DateField and connection.vendor == "sqlite":
        return _iso_or_none
    if type(field) is models.JSONField and field.encoder is None:
        if connection.vendor == "sqlite":
            return _json_text  # as the SQLite backend's adapt_json_value
        return _jsonb  # as the PostgreSQL backend's adapt_json_value
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value: Any) -> Any:
    return value


def _sqlite_datetime(value: datetime | None) -> str | None:
    # As django.db.backends.sqlite3's adapt_datetimefield_value (USE_TZ: naive UTC).
    if value is None:
        return None
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _jsonb(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)  # None: SQL NULL, as Django stores it


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _iso_or_none(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def insert(model: type[models.Model], rows: list[Row]) -> None:
    """Write rows as one `executemany` per batch, every concrete column given."""
    fields = list(model._meta.concrete_fields)
    adapters = [_adapter(f) for f in fields]
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    if connection.vendor == "postgresql":
        _copy(model, rows, fields, adapters, attnames)
        return
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.executemany(
                sql,
                [
                    tuple(adapt(obj[name]) for adapt, name in zip(adapters, attnames, strict=True))
                    for obj in batch
                ],
            )


def _copy(
    model: type[models.Model],
    rows: list[Row],
    fields: list[Any],
    adapters: list[Callable[[Any], Any]],
    attnames: list[str],
) -> None:
    """PostgreSQL: the rows through COPY, several times faster than INSERTs."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        with raw.copy(sql) as copy:
            for obj in rows:
                copy.write_row(
                    [adapt(obj[name]) for adapt, name in zip(adapters, attnames, strict=True)]
                )
    # COPY goes round Django's cursor, so round the page cache's watch too: said here.
    page_cache.written(connection)


def person(pk: int | None) -> str:
    """A person in a stored text (audit summaries, notification titles)."""
    return str(names.text("%(p)s", p=names.person(pk)))


@contextmanager
def roomy_sqlite() -> Iterator[None]:
    """On SQLite, a page cache big enough for the whole transaction (about 400 MB at most), so
    that it is not spilled to the log and read back while the indexes grow. Restored after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        row = cursor.fetchone()
        before = int(row[0]) if row else -2000
        cursor.execute("PRAGMA cache_size = -400000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")
