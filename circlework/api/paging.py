"""Cursor pagination for every list the API returns.

The body stays a JSON array. A list takes two query parameters: `limit` (how many items, 1 to
200, 50 if left out) and `cursor` (opaque: where the previous page ended). When there is more,
the response carries `Link: <https://…?cursor=…&limit=N>; rel="next"` (RFC 8288, as GitHub
does); the last page has no Link header. Follow the `next` link until there is none.

A cursor is the sort key of the last item on the page (URL-safe base64 of its JSON), never an
offset: an item inserted before it while you walk the list does not shift the pages, so a walk
sees every item that was there when it started exactly once. Each list has a deterministic
order that ends in a unique key (the id), so there are no ties.

Two ways in, one cursor format:
- `page_queryset`: keyset pages in SQL (`WHERE (a, id) > (…)` spelled out, `ORDER BY a, id`,
  `LIMIT limit + 1`): one query a page however long the list. For long lists.
- `page_rows`: for lists a selector has already built and ordered in Python (a circle's polls,
  open ones first, say): the page is cut from the list by a key that must sort the list in its
  order. Those lists are bounded by what they are (one circle's members, polls, …).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from ninja import Field, Schema

from circlework.core.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR = 1000  # characters: a cursor holds a few keys, never more

T = TypeVar("T")
M = TypeVar("M", bound=Model)

KeyValue = int | str | None
Key = tuple[KeyValue, ...]


class PageIn(Schema):
    """The paging parameters every list takes (see circlework.api.paging)."""

    limit: int = Field(
        DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description=f"How many items to return: 1 to {MAX_LIMIT}, {DEFAULT_LIMIT} if left out.",
    )
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR,
        description="Where the previous page ended: copy it from the `next` URL of the "
        "response's `Link` header (RFC 8288). Opaque; leave it out for the first page. "
        "There is no `next` link on the last page.",
    )


BAD_CURSOR = "The cursor is not valid: start again without one, or follow the Link header."


def _bad_cursor() -> InvalidInput:
    return InvalidInput(BAD_CURSOR, fields={"cursor": [BAD_CURSOR]})


def encode(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=_json_value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def decode(cursor: str, length: int | None) -> list[Any]:
    """The key a cursor holds, checked for shape (a list of `length` scalars), or a 400."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(key, list) or not key or (length is not None and len(key) != length):
        raise _bad_cursor()
    if not all(isinstance(v, int | str) and not isinstance(v, bool) for v in key):
        raise _bad_cursor()
    if any(isinstance(v, str) and "\x00" in v for v in key):
        raise _bad_cursor()  # no list's key holds one; PostgreSQL would refuse it as a parameter
    if any(isinstance(v, int) and abs(v) > 2**63 - 1 for v in key):
        raise _bad_cursor()
    return key


def _next_link(request: HttpRequest, response: HttpResponse, cursor: str, limit: int) -> None:
    params: QueryDict = request.GET.copy()
    params["cursor"] = cursor
    params["limit"] = str(limit)
    url = request.build_absolute_uri(request.path + "?" + params.urlencode())
    response["Link"] = f'<{url}>; rel="next"'


# --- lists built in SQL -------------------------------------------------------------------------


def _field(model: type[Model], path: str) -> Any:
    """The model field an ordering path (`circle__name`, `pk`) ends at."""
    field: Any = None
    for part in path.split("__"):
        if field is not None:
            model = field.related_model
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
    return field


def _after(model: type[Model], order: Sequence[str], key: list[Any]) -> Q:
    """Rows after `key` in `order` (each field ascending, or descending with a leading "-")."""
    values = []
    for spec, raw in zip(order, key, strict=True):
        name = spec.lstrip("-")
        try:
            field = _field(model, name)
            value = field.target_field.to_python(raw) if field.is_relation else field.to_python(raw)
        except (FieldDoesNotExist, ValidationError, TypeError, ValueError, OverflowError) as exc:
            raise _bad_cursor() from exc
        if value is None:
            raise _bad_cursor()
        values.append((name, spec.startswith("-"), value))
    condition = Q(pk__in=[])
    for i, (name, descending, value) in enumerate(values):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
        for earlier, _desc, earlier_value in values[:i]:
            step &= Q(**{earlier: earlier_value})
        condition |= step
    return condition


def _key_of(row: Model, order: Sequence[str]) -> list[Any]:
    key = []
    for spec in order:
        value: Any = row
        for part in spec.lstrip("-").split("__"):  # `circle__name`: through the relation
            value = getattr(value, "pk" if part == "pk" else part)
        key.append(value.pk if isinstance(value, Model) else value)
    return key


def page_queryset(
    request: HttpRequest,
    response: HttpResponse,
    paging: PageIn,
    rows: QuerySet[M],
    *,
    order: Sequence[str],
    keep: Callable[[M], bool] | None = None,
) -> list[M]:
    """One page of `rows` in `order` (non-null fields ending in a unique one, e.g. ("name",
    "pk") or ("-created_at", "-pk")), after `paging.cursor`; sets the Link header when there is
    more. One query a page; with `keep` (a per-row check, e.g. a permission), as many more as
    it takes to fill the page when rows are left out."""
    model = rows.model
    rows = rows.order_by(*order)
    if paging.cursor:
        rows = rows.filter(_after(model, order, decode(paging.cursor, len(order))))
    limit = paging.limit
    page: list[M] = []
    more = False
    batch = rows
    while True:
        fetched = list(batch[: limit + 1])
        for row in fetched:
            if keep is None or keep(row):
                if len(page) == limit:
                    more = True
                    break
                page.append(row)
        if more or len(fetched) <= limit:
            break
        batch = rows.filter(_after(model, order, _key_of(fetched[-1], order)))
    if more:
        _next_link(request, response, encode(_key_of(page[-1], order)), limit)
    return page


# --- lists built in Python ----------------------------------------------------------------------


def page_rows(
    request: HttpRequest,
    response: HttpResponse,
    paging: PageIn,
    rows: Iterable[T],
    *,
    key: Callable[[T], Key],
) -> list[T]:
    """One page of `rows`, a list already in the order `key` sorts it (ints, strings; negate an
    int to sort it descending), after `paging.cursor`; sets the Link header when there is more.
    """
    ordered = sorted(rows, key=key)  # keys end in a unique id: no ties
    rest = ordered
    if paging.cursor:
        after = tuple(decode(paging.cursor, None))
        if ordered and [type(v) for v in after] != [type(v) for v in key(ordered[0])]:
            raise _bad_cursor()  # not a cursor of this list
        rest = [r for r in ordered if key(r) > after]
    page = rest[: paging.limit]
    if len(rest) > paging.limit:
        _next_link(request, response, encode(key(page[-1])), paging.limit)
    return page


def ts(value: datetime | date | None) -> int:
    """A time as an int key (microseconds since the epoch, or days for a date; 0 for none)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - EPOCH) // timedelta(microseconds=1)
    return value.toordinal()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
