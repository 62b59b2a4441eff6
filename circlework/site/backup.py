"""A portable, verified backup of a whole instance or of one circle, and its restore.

`export_instance` / `export_circle` write a .tar.gz holding `data.json` (every row of every
included model, primary keys kept) and `media/` (the uploaded files those rows name).
`import_backup` restores it into an empty, migrated database of the same schema version.

- Encrypted columns (circlework.core.crypto.EncryptedTextField) are read and written as the
  stored ciphertext: the archive never holds their plain text, and the target must be given the
  same FIELD_ENCRYPTION_KEYS (or a list containing the key that wrote them).
- Audit events are written as they are (raw inserts, not `save()`), so their hash chain still
  verifies. A circle's history is a part of its server's chain: importing it appends one
  `audit.history_imported` event that seals the imported part (see circlework.core.audit).
- PostgreSQL sequences are moved past the imported keys, so new records get fresh ones.

What a whole-instance backup holds, and what it leaves out, is in `instance_models` and
docs/operations.md ("Backup and restore"). One circle: `_circle_seeds` below, from the parts each
app registers (circlework.core.contributions.BackupPart).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any
from uuid import UUID

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.duration import duration_iso_string
from django.utils.module_loading import autodiscover_modules

from circlework.circles.models import Circle
from circlework.core import audit
from circlework.core.contributions import BackupSeed, backup_parts
from circlework.core.crypto import EncryptedTextField
from circlework.core.models import AuditEvent
from circlework.core.scheduling import REGISTRY

FORMAT = "circlework-backup"
FORMAT_VERSION = 1
DATA_NAME = "data.json"
MEDIA_DIR = "media"
_BATCH = 500

# Background tasks waiting to run (e-mails to send, deadlines); results of past runs are left.
_TASKS = "django_tasks_database.dbtaskresult"
# Left out of every backup, with the reason (shown in the manifest and the documentation).
LEFT_OUT = {
    "sessions": "everyone signs in again on the restored server",
    "account.emailconfirmation": "pending e-mail confirmations; the link can be sent again",
    "auth groups and permissions": "created by migrate; the product does not use them",
    "finished and running background tasks": "recurring jobs are re-queued by the worker",
}


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why and what to do."""


@dataclass
class Table:
    model: type[models.Model]
    fields: list[models.Field[Any, Any]]
    rows: dict[Any, list[Any]]  # pk -> values in `fields` order, as Python values from the ORM


@dataclass
class Summary:
    scope: str
    counts: dict[str, int]
    files: int
    cut_references: dict[str, int] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


# --- which models -------------------------------------------------------------------------------


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _ours(model: type[models.Model]) -> bool:
    return model.__module__.startswith("circlework.")  # many-to-many tables: their owner's


def _third_party() -> set[str]:
    """Models of other packages the apps bring along (the log-in's e-mail addresses and second
    factors: BackupPart.third_party)."""
    return {label for part in backup_parts() for label in part.third_party}


def instance_models() -> list[type[models.Model]]:
    """Every model a whole-instance backup holds, in a stable order.

    All models of the circlework apps (with their many-to-many tables) whose required references
    stay inside the backup, plus the third-party models the apps name (allauth's e-mail addresses
    and authenticators) and the pending background tasks. The user's Django groups/permissions
    tables are left out (see LEFT_OUT).
    """
    third_party = _third_party()
    candidates = [
        m
        for m in apps.get_models(include_auto_created=True)
        if _ours(m) or _label(m) in third_party or _label(m) == _TASKS
    ]
    included = {_label(m) for m in candidates}
    changed = True
    while changed:  # drop any model whose required reference points outside the backup
        changed = False
        for m in candidates:
            if _label(m) not in included:
                continue
            for f in m._meta.concrete_fields:
                target = f.related_model
                required = f.is_relation and not f.null and isinstance(target, type)
                if required and _label(target) not in included:  # type: ignore[arg-type]
                    included.discard(_label(m))
                    changed = True
                    break
    return [m for m in candidates if _label(m) in included]


def _base(model: type[models.Model]) -> QuerySet[Any]:
    return model._base_manager.all()


def _instance_seeds() -> list[tuple[type[models.Model], QuerySet[Any]]]:
    seeds = []
    recurring = _recurring_task_paths()
    for model in instance_models():
        qs = _base(model)
        if _label(model) == _TASKS:
            qs = qs.filter(status="READY").exclude(task_path__in=recurring)
        seeds.append((model, qs))
    return seeds


def _recurring_task_paths() -> list[str]:
    autodiscover_modules("tasks")
    return [item.task.module_path for item in REGISTRY]


def _circle_seeds(circle: Circle) -> list[BackupSeed]:
    """The records one circle takes with it to its own server.

    Its federation (with the covenant versions it lives by), the circle, its memberships and
    invitations, its members (log-in, e-mail addresses, second factors, profile, credentials,
    notification settings), its proposals with their versions, positions, amendments, comments
    and outcomes, the federation proposals it raised or answered with its own positions, its
    agreements and ethics circulations, polls, standing-by statements and concerns, the validation
    links it is party to with their meetings, its mandates and elections (each app's
    BackupPart.circle_seeds, in their order), and its audit events.

    Records these name but do not own come along as far as they must: another circle at the far
    end of a link (its own record only), a person named on a record (their log-in and profile,
    not their credentials or records elsewhere). Optional references to anything else are cut.
    """
    seeds = [seed for part in backup_parts() for seed in part.circle_seeds(circle)]
    return [*seeds, (AuditEvent, AuditEvent.objects.filter(circle=circle))]


def _circle_pull() -> set[str]:
    """Models an optional reference from a circle's own records brings along (BackupPart.pull):
    the person or the circle it names."""
    return {label for part in backup_parts() for label in part.pull}


# --- reading rows -------------------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def _read(model: type[models.Model], qs: QuerySet[Any]) -> dict[Any, list[Any]]:
    """Rows as the ORM reads them, except encrypted columns: those as stored (ciphertext)."""
    fields = _columns(model)
    selected: list[Any] = [
        Cast(f.name, output_field=TextField()) if isinstance(f, EncryptedTextField) else f.attname
        for f in fields
    ]
    pk_index = fields.index(model._meta.pk)
    rows: dict[Any, list[Any]] = {}
    for values in qs.order_by("pk").values_list(*selected).iterator(chunk_size=2000):
        rows[values[pk_index]] = list(values)
    return rows


def _references(model: type[models.Model]) -> list[tuple[int, models.Field[Any, Any]]]:
    refs = []
    for i, f in enumerate(_columns(model)):
        if f.is_relation and isinstance(f.related_model, type):
            target_field = f.target_field  # type: ignore[attr-defined]
            if not target_field.primary_key:
                raise BackupError(f"{model._meta.label}.{f.name} does not refer to a primary key.")
            refs.append((i, f))
    return refs


def _collect(
    seeds: list[tuple[type[models.Model], QuerySet[Any]]], *, pull: set[str]
) -> tuple[dict[str, Table], dict[str, int]]:
    """Read the seeded rows and everything they must refer to; cut what they may do without.

    A required reference pulls its target in. An optional one pulls it in too when the target is
    a model in `pull` and the reference is from a seeded row (a person or circle named on the
    circle's own record); otherwise an optional reference to a row outside the backup is cut.
    """
    tables: dict[str, Table] = {}
    seeded: dict[str, set[Any]] = defaultdict(set)
    for model, qs in seeds:
        label = _label(model)
        found = _read(model, qs)
        tables.setdefault(label, Table(model, _columns(model), {})).rows.update(found)
        seeded[label].update(found)
    pending: dict[str, set[Any]] = defaultdict(set)
    models_by_label = {label: t.model for label, t in tables.items()}

    def scan(table: Table, pks: Iterable[Any]) -> None:
        label = _label(table.model)
        for index, f in _references(table.model):
            target = f.related_model
            assert isinstance(target, type)
            target_label = _label(target)
            for pk in pks:
                value = table.rows[pk][index]
                if value is None:
                    continue
                have = tables.get(target_label)
                if have is not None and value in have.rows:
                    continue
                from_seed = pk in seeded[label]
                if not f.null or (from_seed and target_label in pull):
                    pending[target_label].add(value)
                    models_by_label[target_label] = target

    for table in list(tables.values()):
        scan(table, list(table.rows))
    while any(pending.values()):
        label, pks = next((k, v) for k, v in pending.items() if v)
        pending[label] = set()
        model = models_by_label[label]
        table = tables.setdefault(label, Table(model, _columns(model), {}))
        new = {pk for pk in pks if pk not in table.rows}
        rows: dict[Any, list[Any]] = {}
        for chunk in _chunks(sorted(new), _BATCH):
            rows.update(_read(model, _base(model).filter(pk__in=chunk)))
        if len(rows) != len(new):
            missing = sorted(new - set(rows))[:5]
            raise BackupError(f"{model._meta.label} rows {missing} are referred to but missing.")
        table.rows.update(rows)
        scan(table, list(rows))
    cut: dict[str, int] = defaultdict(int)
    for table in tables.values():
        for index, f in _references(table.model):
            target = f.related_model
            assert isinstance(target, type)
            have = tables.get(_label(target))
            for values in table.rows.values():
                value = values[index]
                if value is not None and (have is None or value not in have.rows):
                    values[index] = None
                    cut[f"{table.model._meta.label}.{f.name}"] += 1
    return tables, dict(cut)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- JSON -----------------------------------------------------------------------------------------


def _dump(f: models.Field[Any, Any], value: Any) -> Any:
    if value is None or isinstance(f, models.JSONField):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_iso_string(value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _prepare(f: models.Field[Any, Any], value: Any) -> Any:
    """A value from data.json as the database takes it. Ciphertext goes in untouched."""
    if value is None or isinstance(f, EncryptedTextField):
        return value
    python = value if isinstance(f, models.JSONField) else f.to_python(value)
    return f.get_db_prep_save(python, connection)


def _applied_migrations(app_labels: Iterable[str]) -> dict[str, list[str]]:
    applied = MigrationRecorder(connection).applied_migrations()
    wanted = set(app_labels)
    result: dict[str, list[str]] = defaultdict(list)
    for app_label, name in applied:
        if app_label in wanted:
            result[app_label].append(name)
    return {k: sorted(v) for k, v in sorted(result.items())}


# --- export ---------------------------------------------------------------------------------------


def _file_fields(model: type[models.Model]) -> list[tuple[int, models.FileField]]:
    return [(i, f) for i, f in enumerate(_columns(model)) if isinstance(f, models.FileField)]


def _write(
    path: Path, tables: dict[str, Table], scope: dict[str, Any], cut: dict[str, int]
) -> Summary:
    files: dict[str, bytes] = {}
    missing: list[str] = []
    for table in tables.values():
        for index, f in _file_fields(table.model):
            for values in table.rows.values():
                name = values[index]
                if not name or name in files:
                    continue
                if not f.storage.exists(name):
                    missing.append(name)
                    continue
                with f.storage.open(name, "rb") as fh:
                    files[name] = fh.read()
    ordered = [tables[_label(m)] for m in _model_order() if _label(m) in tables]
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "scope": scope,
        "database": connection.vendor,
        "migrations": _applied_migrations({t.model._meta.app_label for t in ordered}),
        "left_out": {**LEFT_OUT, **scope.get("left_out", {})},
        "cut_references": cut,
        "missing_files": missing,
        "files": {
            name: {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for name, body in sorted(files.items())
        },
        "tables": [
            {
                "model": _label(t.model),
                "fields": [f.attname for f in t.fields],
                "encrypted": [f.attname for f in t.fields if isinstance(f, EncryptedTextField)],
                "rows": [
                    [_dump(f, v) for f, v in zip(t.fields, t.rows[pk], strict=True)]
                    for pk in sorted(t.rows)
                ],
            }
            for t in ordered
        ],
    }
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    partial = path.with_name(path.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        _add(tar, DATA_NAME, body)
        for name, content in sorted(files.items()):
            _add(tar, f"{MEDIA_DIR}/{name}", content)
    partial.replace(path)
    return Summary(
        scope=scope["kind"],
        counts={_label(t.model): len(t.rows) for t in ordered},
        files=len(files),
        cut_references=cut,
        missing_files=missing,
    )


def _add(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(content))


def _model_order() -> list[type[models.Model]]:
    return list(apps.get_models(include_auto_created=True))


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Read everything in one transaction that sees one state of the database, so the backup is
    consistent while the site keeps running (PostgreSQL: repeatable read; SQLite: one read
    transaction)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _seal_before_export() -> None:
    """Events committed a moment ago may still wait for their seal: a backup should carry them
    sealed. Best effort: the import seals whatever comes unsealed, and an export must still work
    read-only (a replica) and must not hold the chain's lock through an outer transaction."""
    if connection.in_atomic_block:
        return
    with suppress(DatabaseError):  # read-only: the events travel unsealed, sealed on import
        audit.seal_pending()


def export_instance(path: Path) -> Summary:
    """Write every record of the instance (see `instance_models`) and its files to `path`."""
    _seal_before_export()
    with _one_snapshot():
        tables, cut = _collect(_instance_seeds(), pull=set())
        return _write(path, tables, {"kind": "instance"}, cut)


def export_circle(circle: Circle, path: Path) -> Summary:
    """Write one circle's records (see `_circle_seeds`) and its members' files to `path`."""
    left_out = {
        "other circles' records": "only the circle's own; a circle at the far end of a link "
        "comes as its bare record",
        "notifications and API tokens": "they belong to the old server",
        "federation mandates and elections": "they belong to the federation",
        "background tasks": "deadlines are caught by the worker's sweeps",
    }
    _seal_before_export()
    with _one_snapshot():
        tables, cut = _collect(_circle_seeds(circle), pull=_circle_pull())
        scope = {"kind": "circle", "circle": circle.slug, "left_out": left_out}
        return _write(path, tables, scope, cut)


# --- import ---------------------------------------------------------------------------------------


def read_archive(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """data.json and the files, checked against the sizes and hashes the backup recorded."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            if DATA_NAME not in members:
                raise BackupError(f"{path} is not a Circlework backup (no {DATA_NAME}).")
            data = json.loads(_extract(tar, members[DATA_NAME]))
            files: dict[str, bytes] = {}
            for name, meta in data.get("files", {}).items():
                member = members.get(f"{MEDIA_DIR}/{name}")
                if member is None:
                    raise BackupError(f"The backup is incomplete: the file {name} is missing.")
                body = _extract(tar, member)
                if len(body) != meta["size"] or hashlib.sha256(body).hexdigest() != meta["sha256"]:
                    raise BackupError(f"The backup is damaged: the file {name} does not match.")
                files[name] = body
    except (OSError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} cannot be read as a Circlework backup: {exc}") from exc
    if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        raise BackupError(f"{path} is not a Circlework backup of format {FORMAT_VERSION}.")
    return data, files


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(member)
    if fh is None:
        raise BackupError(f"{member.name} cannot be read from the backup.")
    return fh.read()


def _safe_name(name: str) -> str:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or any(p in ("..", "") for p in parts):
        raise BackupError(f"The backup names a file outside the media folder: {name!r}.")
    return name


def nonempty_models(models_: Iterable[type[models.Model]]) -> list[str]:
    return [m._meta.label for m in models_ if _base(m).exists()]


def import_backup(path: Path) -> Summary:
    """Restore a backup into this database, which must be migrated and empty."""
    data, files = read_archive(path)
    tables: list[tuple[type[models.Model], list[models.Field[Any, Any]], list[list[Any]]]] = []
    for entry in data["tables"]:
        try:
            model = apps.get_model(entry["model"])
        except LookupError as exc:
            raise BackupError(
                f"The backup holds {entry['model']}, which this version of Circlework does not "
                "have. Restore with the version that made the backup."
            ) from exc
        by_attname = {f.attname: f for f in _columns(model)}
        if set(entry["fields"]) != set(by_attname):
            raise BackupError(
                f"The backup's columns of {model._meta.label} differ from this database's. "
                "Restore with the version of Circlework that made the backup, then upgrade."
            )
        tables.append((model, [by_attname[a] for a in entry["fields"]], entry["rows"]))
    here = _applied_migrations(data["migrations"])
    if here != data["migrations"]:
        differing = sorted(a for a in data["migrations"] if here.get(a) != data["migrations"][a])
        raise BackupError(
            "The backup was made at another schema version (apps: "
            + ", ".join(differing)
            + "). Migrate this database to the same version, restore, then upgrade."
        )
    # Queued tasks do not count: a worker started on the new server queues its recurring jobs.
    occupied = nonempty_models(m for m in instance_models() if _label(m) != _TASKS)
    if occupied:
        raise BackupError(
            "This database is not empty (it holds "
            + ", ".join(occupied[:6])
            + (" …" if len(occupied) > 6 else "")
            + "). Restore only into a new database: create it, run `manage.py migrate`, then "
            "import. Nothing was changed."
        )
    names = [_safe_name(n) for n in files]
    written: list[tuple[Any, str]] = []
    try:
        with transaction.atomic():
            _insert(tables)
            _reset_sequences([model for model, _, _ in tables])
            audit.seal_pending()  # events the backup caught before their seal
            if data["scope"]["kind"] == "circle":
                _seal_imported_history(data["scope"]["circle"])
            connection.check_constraints()
            written = _store_files(tables, files, names)
    except Exception:
        for storage, name in written:
            storage.delete(name)
        raise
    return Summary(
        scope=data["scope"]["kind"],
        counts={_label(model): len(rows) for model, _, rows in tables},
        files=len(files),
        cut_references=data.get("cut_references", {}),
        missing_files=data.get("missing_files", []),
    )


def _insert(
    tables: list[tuple[type[models.Model], list[models.Field[Any, Any]], list[list[Any]]]],
) -> None:
    """Raw inserts: no save(), no auto_now, no signals; the values go in as they were."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, fields, rows in tables:
            if not rows:
                continue
            columns = ", ".join(qn(str(f.column)) for f in fields)
            marks = ", ".join(["%s"] * len(fields))
            # Identifiers come from model metadata; values are parameters.
            sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
            for chunk in _chunks(rows, _BATCH):
                cursor.executemany(
                    sql,
                    [[_prepare(f, v) for f, v in zip(fields, row, strict=True)] for row in chunk],
                )


def _reset_sequences(models_: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), models_)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _store_files(
    tables: list[tuple[type[models.Model], list[models.Field[Any, Any]], list[list[Any]]]],
    files: dict[str, bytes],
    names: list[str],
) -> list[tuple[Any, str]]:
    storage_of: dict[str, Any] = {}
    for _model, fields, rows in tables:
        for index, f in enumerate(fields):
            if isinstance(f, models.FileField):
                for row in rows:
                    if row[index]:
                        storage_of[row[index]] = f.storage
    written: list[tuple[Any, str]] = []
    for name in names:
        storage = storage_of.get(name)
        if storage is None:
            continue  # no row names it: nothing to restore
        body = files[name]
        if storage.exists(name):
            with storage.open(name, "rb") as fh:
                if fh.read() == body:
                    continue
            raise BackupError(
                f"A different file is already stored as {name}; move it away and import again."
            )
        saved = storage.save(name, ContentFile(body))
        written.append((storage, saved))
        if saved != name:
            raise BackupError(f"The file {name} could not be stored under its own name.")
    return written


def _seal_imported_history(circle_slug: str) -> None:
    """Append the event that vouches for the imported part of the audit chain."""
    circle = Circle.objects.select_related("federation").get(slug=circle_slug)
    # Hold the chain until the import commits, so no event written meanwhile by another session
    # is sealed between the imported ones and their seal.
    audit.lock_chain()
    audit.seal_pending()
    events = list(
        AuditEvent.objects.filter(seq__isnull=False).order_by("seq").values_list("id", "hash")
    )
    seal = audit.record(
        actor=None,
        verb=audit.HISTORY_IMPORTED,
        target=circle,
        circle=circle,
        summary=f"The history of {circle.name} was brought over from its former server "
        f"({len(events)} events).",
        data={"imported_history": audit.history_seal(events)},
    )
    audit.seal_pending(only=[seal.pk])  # now, for the import's own check
