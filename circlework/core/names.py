"""Stored texts that mention people: ids when written, names when read.

An audit summary or a notification is written once and read many times, by people with
different rights, for years. A name baked into it at write time would show to readers its
owner keeps it from, and outlive its owner's choice and their account. So a stored text
carries a token for each person it mentions, `{practitioner:12}`, and `render` puts in each
name as far as the one reading may see it (`core.visibility.names_for`): their name, "a member",
or "a former member" once the account is gone.

    summary = names.text(_("%(a)s stands by %(b)s"), a=names.person(actor), b=names.person(b))
    ...
    names.render(event.summary, audience_for(request.user), written_at=event.created_at)

Every other value is stored as given; braces in it are doubled so that no text a person typed
can pose as a token. Ids are never reused on PostgreSQL; on SQLite a deleted last row's id can be
given again, so a practitioner who joined after the text was written is not the one it names.

Texts written before this module (none in production) hold no tokens and read as they were,
except that a doubled brace in them reads as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from circlework.core.visibility import A_FORMER_MEMBER, Audience, people_and_names

_TOKEN = re.compile(r"\{\{|\}\}|\{practitioner:(\d+)\}")


class Stored(str):
    """A text in its stored form (from `text`): tokens for people, braces doubled elsewhere.

    `audit.record` and `notifications.notify` store a `Stored` as it is and escape any other
    string, so a plain string can never pose as a token."""


@dataclass(frozen=True)
class Person:
    """A person to be named in a stored text (see `person`)."""

    pk: int | None


def person(practitioner: Any) -> Person:
    """A practitioner or their id (or None, for a former member) to be named when read."""
    if practitioner is None or isinstance(practitioner, int):
        return Person(practitioner)
    return Person(practitioner.pk)


def people(practitioners: Iterable[Any], separator: str = ", ") -> Stored:
    """Several people, as a list in a stored text."""
    return Stored(escape(separator).join(_stored(person(p)) for p in practitioners))


def escape(value: object) -> str:
    """Any text, as it is to be stored: braces doubled, so it can never read as a token."""
    return str(value).replace("{", "{{").replace("}", "}}")


def _stored(value: object) -> str:
    if isinstance(value, Stored):
        return value  # already in its stored form (a text within a text)
    if isinstance(value, Person):
        # A former member is id 0, which no one has: read as "a former member".
        return f"{{practitioner:{value.pk or 0}}}"
    return escape(value)


def text(template: str, /, **values: object) -> Stored:
    """The stored form of `template % values`: people (`person(...)`) as tokens, everything else
    as given. The template is a translated string with %(name)s placeholders."""
    return Stored(escape(template) % {key: _stored(value) for key, value in values.items()})


def stored(value: str) -> Stored:
    """What is stored for `value`: a `Stored` text as it is, any other string escaped."""
    return value if isinstance(value, Stored) else Stored(escape(value))


def practitioner_ids(value: str) -> set[int]:
    """The practitioners a stored text names (what erasure and exports look for)."""
    return {int(m.group(1)) for m in _TOKEN.finditer(value) if m.group(1)}


def clip(value: str, length: int) -> Stored:
    """Cut a stored text to `length` characters without cutting a token or an escape in two."""
    value = stored(value)
    if len(value) <= length:
        return value
    for match in _TOKEN.finditer(value):
        if match.start() < length < match.end():
            return Stored(value[: match.start()])
        if match.start() >= length:
            break
    return Stored(value[:length])


def render_all(items: Sequence[tuple[str, datetime | None]], audience: Audience) -> list[str]:
    """Each stored text (with when it was written) as this audience may read it, names put in by
    the one name rule. One query however many texts (the people, read with their reach)."""
    ids: set[int] = set()
    for value, _written in items:
        ids |= practitioner_ids(value)
    ids.discard(0)  # a former member's token
    people, shown = people_and_names(audience, ids)
    former = str(A_FORMER_MEMBER)

    def one(value: str, written: datetime | None) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            if match.group(1) is None:
                return token[0]  # "{{" or "}}"
            p = people.get(int(match.group(1)))
            if p is None or (written is not None and p.created_at > written):
                name = former
            else:
                name = shown[p.pk]
            return _sentence_start(name, match.start())

        return _TOKEN.sub(replace, value)

    return [one(value, written) for value, written in items]


def _sentence_start(name: str, position: int) -> str:
    """A name opening a text starts with a capital: "A member joined", not "a member"."""
    return name[:1].upper() + name[1:] if position == 0 else name


def fill(value: str, shown: dict[int, str]) -> str:
    """A stored text with names already decided by the name rule for its reader (`shown`, by
    id, from `core.visibility.names_for`); anyone not in `shown` is "a former member"."""
    former = str(A_FORMER_MEMBER)

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        return _sentence_start(shown.get(int(match.group(1)), former), match.start())

    return _TOKEN.sub(replace, value)


def render(value: str, audience: Audience, *, written_at: datetime | None = None) -> str:
    """One stored text as this audience may read it."""
    return render_all([(value, written_at)], audience)[0]
