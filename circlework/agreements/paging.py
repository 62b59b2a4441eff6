"""A list that only grows (comments, circulations, amendments) read a page at a time from its
latest end: page 1 is the latest, "Earlier comments" goes back. Used by the pages of ethical
statements here and of proposals (decisions, a floor above).

Each page is one query, the count of the whole list with it (a window over the whole filter,
computed before the page is cut), however long the list: a page past the last one costs a count
more and shows the last (earliest) page, as Paginator.get_page does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Count, Model, QuerySet, Window
from django.http import QueryDict

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class LatestPage(Generic[M]):
    rows: list[M]  # oldest first, as they are read
    number: int  # 1 is the latest page
    pages: int
    count: int  # of the whole list
    size: int

    @property
    def earlier(self) -> int | None:
        """The page before this one (older rows), if any."""
        return self.number + 1 if self.number < self.pages else None

    @property
    def later(self) -> int | None:
        """The page after this one (newer rows), if any."""
        return self.number - 1 if self.number > 1 else None

    @property
    def first_ordinal(self) -> int:
        """The place in the whole list, counted from 1 at the oldest, of this page's first row."""
        return self.count - (self.number - 1) * self.size - len(self.rows) + 1


def pages_for(count: int, size: int) -> int:
    return max(1, -(-count // size))


def page_holding(newer: int, size: int) -> int:
    """The page of a row with `newer` rows after it in the list."""
    return newer // size + 1


def latest_page(
    rows: QuerySet[M], *, number: int, size: int, newest_first: Sequence[str]
) -> LatestPage[M]:
    """Page `number` (1: the latest `size` rows) of `rows`, ordered by `newest_first` (a total
    order, e.g. ("-created_at", "-id")), returned oldest first. Window annotations the caller
    put on `rows` are read with each row, over the whole list."""
    listed = rows.annotate(listed_total=Window(Count("pk"))).order_by(*newest_first)
    number = max(1, number)

    def cut(n: int) -> list[M]:
        return list(listed[(n - 1) * size : n * size])

    got = cut(number)
    if got:
        count: int = got[0].listed_total  # type: ignore[attr-defined]
    else:
        count = rows.count() if number > 1 else 0
        last = pages_for(count, size)
        if number > last:
            number = last
            got = cut(number) if count else []
    got.reverse()
    return LatestPage(rows=got, number=number, pages=pages_for(count, size), count=count, size=size)


def pager_urls(
    page: str, query: QueryDict, *names: str, drop: Sequence[str] = ()
) -> dict[str, str]:
    """For each paged list of a page (by its query parameter), the page's address `page` with
    its query less that parameter (and those in `drop`), ready for a pager link to add `name=N`:
    a list's pager keeps where the page's other lists are. The address is given, never left
    to the browser: the same page is shown again at a form's address after a refused answer,
    where a bare `?comments=2` would ask that form's address for a page."""
    urls = {}
    for name in names:
        keep = query.copy()
        for gone in (name, *drop):
            keep.pop(gone, None)
        rest = keep.urlencode()
        urls[name] = f"{page}?{rest}&" if rest else f"{page}?"
    return urls
