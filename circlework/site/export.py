"""What a practitioner did and gave in their circles, for "Download everything".

Every app registers its export parts (circlework.core.contributions.ExportPart): the account,
profile and settings, then every record that refers to the practitioner: proposals, positions,
comments, amendments, polls and poll answers, standing-by statements and concerns, links,
mandates, elections, nominations, and so on. `EXPORTED` names, for every reference to a
practitioner (or their log-in) in the data model, the export section that carries those records;
`NOT_EXPORTED` names the few left out and why. A test walks the models and fails on a reference
in neither, so a new model that refers to a practitioner cannot be forgotten.

Their own sensitive texts (reasons for withdrawing, concerns, personal messages) are exported
as they wrote them, decrypted. Other people appear by name only as far as the practitioner may
see that name (`core.visibility.names_for`), otherwise as "a member". The number of queries is
fixed, however many records there are: one per section, and one per part for the names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from circlework.accounts.models import Practitioner
from circlework.core.contributions import ExportPart, export_parts

FORMAT = "circlework-practitioner-export/1"


def practitioner_export(*, practitioner: Practitioner) -> dict[str, Any]:
    """Everything Circlework holds about a practitioner, as plain JSON-ready data (every
    reference to them in the data model: EXPORTED says where each one goes)."""
    data: dict[str, Any] = {"format": FORMAT}
    for part in export_parts():
        data.update(part.build(practitioner))
    return data


class _References(Mapping[str, str]):
    """ "app_label.Model.field" -> section (or reason), as the registered parts say; read when
    asked, since the apps register their parts once they are loaded."""

    def __init__(self, pick: Callable[[ExportPart], Mapping[str, str]]) -> None:
        self._pick = pick

    def _all(self) -> dict[str, str]:
        return {ref: value for part in export_parts() for ref, value in self._pick(part).items()}

    def __getitem__(self, ref: str) -> str:
        return self._all()[ref]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


# Each reference to a practitioner or user -> the export section that carries its records.
EXPORTED: Mapping[str, str] = _References(lambda part: part.exported)
# References left out of the export, and why.
NOT_EXPORTED: Mapping[str, str] = _References(lambda part: part.not_exported)
