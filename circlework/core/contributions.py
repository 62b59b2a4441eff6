"""What each domain app contributes to the site-level pages, registered, never imported by core.

The home page ("what needs me"), the practitioner's "Download everything" and the backup of one
circle gather something from every domain app. They live in `circlework.site`, above every app;
each domain app says what it brings in its own `contributions.py`, whose `register()` its
`AppConfig.ready()` calls. Adding an app means registering here, not editing the site's code.

- `HomeSection`: one section of the home page, drawn when its `context` gives something to show.
- `ExportPart`: sections of the practitioner's JSON export, and which references to a
  practitioner in the data model they carry (`circlework.site.export` checks that every one is
  carried or left out with a reason).
- `BackupPart`: the records one circle takes to its own server, and what the whole-instance
  backup holds besides the circlework apps' own models.

Registering a key again replaces the earlier part. Lists come sorted by `order`, then `key`: the
order is the page's, the file's and the backup's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from django.db import models
from django.db.models import QuerySet

from circlework.core.visibility import A_FORMER_MEMBER, audience_for, names_for

# The practitioner (accounts.Practitioner), their log-in (the request's user, which carries how
# the session signed in) and a circle (circles.Circle) are models of apps above core: these
# signatures cannot name them, so they say which one they mean.
Practitioner = Any
User = Any
Circle = Any

# A model and the rows of it a circle's backup starts from (rows they need come along).
BackupSeed = tuple[type[models.Model], "QuerySet[Any]"]


@dataclass(frozen=True)
class HomeSection:
    """A section of the signed-in home page.

    `context(practitioner, user)` gives the names the template reads, or None when the section
    has nothing to show (then it is left out). `template` is drawn with the page's context,
    which holds `practitioner` and the names every shown section gave.
    """

    key: str
    order: int
    template: str
    context: Callable[[Practitioner, User], dict[str, Any] | None]


@dataclass(frozen=True)
class ExportPart:
    """Sections of the practitioner's "Download everything".

    `build(practitioner)` gives the sections, in the file's order, as JSON-ready data.
    `exported` maps each reference to a practitioner or their log-in ("app_label.Model.field")
    that the part carries to its section; `not_exported` names those it leaves out, and why.
    """

    key: str
    order: int
    build: Callable[[Practitioner], dict[str, Any]]
    exported: Mapping[str, str] = field(default_factory=dict)
    not_exported: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BackupPart:
    """What an app brings to a backup.

    `circle_seeds(circle)`: the app's records that belong to one circle moving to its own server
    (records they require come along by themselves). `pull`: models ("app_label.model") that an
    optional reference from a seeded row brings along rather than cuts (a person or a circle
    named on the circle's own records). `third_party`: models of other packages the
    whole-instance backup holds besides every circlework model.
    """

    key: str
    order: int
    circle_seeds: Callable[[Circle], list[BackupSeed]]
    pull: frozenset[str] = frozenset()
    third_party: frozenset[str] = frozenset()


class _Part(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def order(self) -> int: ...


P = TypeVar("P", bound=_Part)


class _Registry(Generic[P]):
    def __init__(self) -> None:
        self._parts: dict[str, P] = {}

    def register(self, part: P) -> None:
        self._parts[part.key] = part

    def parts(self) -> list[P]:
        return sorted(self._parts.values(), key=lambda p: (p.order, p.key))


_home = _Registry[HomeSection]()
_export = _Registry[ExportPart]()
_backup = _Registry[BackupPart]()


def register_home_section(section: HomeSection) -> None:
    _home.register(section)


def home_sections() -> list[HomeSection]:
    return _home.parts()


def register_export_part(part: ExportPart) -> None:
    _export.register(part)


def export_parts() -> list[ExportPart]:
    return _export.parts()


def register_backup_part(part: BackupPart) -> None:
    _backup.register(part)


def backup_parts() -> list[BackupPart]:
    return _backup.parts()


# --- helpers for export parts: the same shapes in every section -----------------------------


def when(value: Any) -> str | None:
    """A date or time as ISO 8601, or None."""
    return value.isoformat() if value is not None else None


def record_id(record: Any) -> Any:
    """A record's id as the export shows it: a number, or the text of any other key."""
    return str(record.pk) if not isinstance(record.pk, int) else record.pk


def scope_name(record: Any) -> str:
    """The circle or federation a record belongs to, by name."""
    circle = getattr(record, "circle", None)
    if circle is not None:
        return str(circle.name)
    federation = getattr(record, "federation", None)
    return str(federation.name) if federation is not None else ""


def each(records: Iterable[Any], build: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per record: its id, then what `build` gives."""
    return [{"id": record_id(r), **build(r)} for r in records]


def namer(user: User, ids: Iterable[int | None]) -> Callable[[int | None], str | None]:
    """Names of the people a part's records name, as far as `user` may see them ("a former
    member" for an account gone), read in one go: call it after reading the part's rows."""
    named = {pk for pk in ids if pk is not None}
    shown = names_for(audience_for(user), sorted(named))

    def name(pk: int | None) -> str | None:
        return None if pk is None else shown.get(pk, str(A_FORMER_MEMBER))

    return name
