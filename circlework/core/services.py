"""Helpers every service uses: validation into our error shape."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from circlework.core.errors import InvalidInput


def validate(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=list(exclude) if exclude else None)
    except ValidationError as exc:
        raise InvalidInput.from_django(exc) from exc
