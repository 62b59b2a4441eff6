"""The time zones a practitioner chooses from: common ones first, then every place by region.

The time-zone database also holds some 180 names kept only so that old names still work
(aliases such as "W-SU", "US/Eastern" or "Asia/Calcutta") and technical ones ("Factory",
"Etc/GMT+5"). The list offers one name per place: the database's own table of zones by country
(zone.tab), or, where that table is missing, the names under a region. A practitioner whose
stored zone is not offered (set before, or through the API) keeps it: it is offered too.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from functools import cache
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

REGIONS: dict[str, Promise] = {
    "Africa": _("Africa"),
    "America": _("The Americas"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
}

# First in the list: where most practitioners are (the network began in Britain and Ireland).
COMMON = (
    "Europe/London",
    "Europe/Dublin",
    "UTC",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Athens",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)

Choices = list[tuple[str, str]]
GroupedChoices = list[tuple[str, Choices]]


def _zone_table() -> set[str]:
    """The names in the database's table of zones by country, where the table is found."""
    for directory in zoneinfo.TZPATH:
        table = Path(directory) / "zone.tab"
        if table.is_file():
            rows = table.read_text(encoding="utf-8").splitlines()
            return {r.split("\t")[2] for r in rows if r and not r.startswith("#") and "\t" in r}
    return set()


@cache
def offered_zones() -> frozenset[str]:
    """One name per place, each a zone this system knows."""
    known = zoneinfo.available_timezones()
    places = _zone_table() & known or {z for z in known if z.split("/", 1)[0] in REGIONS}
    return frozenset(places | ({"UTC"} & known) | (set(COMMON) & known))


def place_label(zone: str) -> str:
    """ "America/Argentina/Buenos_Aires" → "Buenos Aires (Argentina)"; the region is the
    group's label."""
    parts = zone.replace("_", " ").split("/")[1:] or [zone]
    return f"{parts[-1]} ({' / '.join(parts[:-1])})" if len(parts) > 1 else parts[0]


def time_zone_choices(current: str = "") -> GroupedChoices:
    """Grouped choices for a select (Django renders the groups as <optgroup>): common zones,
    then each region's places by name; a stored zone not offered comes first, as it is."""
    zones = offered_zones()
    by_region: dict[str, Choices] = defaultdict(list)
    for zone in zones:
        region = zone.split("/", 1)[0]
        if region in REGIONS:
            by_region[region].append((zone, place_label(zone)))
    groups: GroupedChoices = []
    if current and current not in zones:
        groups.append((str(_("Your current setting")), [(current, current.replace("_", " "))]))
    groups.append(
        (
            str(_("Common time zones")),
            [(z, place_label(z)) for z in COMMON if z in zones],
        )
    )
    for region, label in REGIONS.items():
        if by_region[region]:
            groups.append((str(label), sorted(by_region[region], key=lambda c: c[1])))
    return groups
