from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.api.helpers import token_client


@pytest.fixture
def four(federation: Any) -> dict[str, Any]:
    """A public circle of four (Ana founded it, validated by the federation), a circle-only
    circle of Ana's (forming), and an outsider, each person with a token client under "c"."""
    people = {n: factories.make_practitioner(n) for n in ("Ana", "Ben", "Cy", "Dee", "Out")}
    circle = factories.make_circle(
        founder=people["Ana"],
        federation=federation,
        members=[people["Ben"], people["Cy"], people["Dee"]],
        name="Four",
    )
    factories.validate_circle(circle, *people.values())
    hidden = factories.make_circle(
        founder=people["Ana"], federation=federation, name="Hidden", visibility="circle"
    )
    clients = {n: token_client(p) for n, p in people.items()}
    return {"circle": circle, "hidden": hidden, "people": people, "c": clients}
