"""Every circle's status, recomputed from its live links and current members.

Databases from before links kept statuses set by hand (or the default), which the register shows
as they are. This sets each circle to *member* when it has at least the covenant's number of live
links (as the asking circle) and at least its minimum of current members, and to *forming*
otherwise — the rule of circlework.links.validation_rule.is_validated, read with the federation's current
covenant parameters and the same defaults and ranges as circlework.circles.covenant. Historical
models only: the small count is written out here, so later changes to the app cannot change what
this migration did.
"""

from typing import Any

from django.db import migrations
from django.utils import timezone

# As circlework.circles.covenant: DEFAULT_* and RANGES, at the time of writing.
DEFAULT_MIN_CIRCLE_SIZE = 4
DEFAULT_LINKS_REQUIRED = 2
RANGES = {"min_circle_size": (2, 50), "links_required": (0, 10)}


def _rule(parameters: Any, key: str, default: int) -> int:
    """One number from the covenant's parameters; anything missing or malformed is the default."""
    params = parameters if isinstance(parameters, dict) else {}
    try:
        number = int(params.get(key))
    except (TypeError, ValueError, OverflowError):
        return default
    minimum, maximum = RANGES[key]
    return number if minimum <= number <= maximum else default


def recompute_circle_status(apps: Any, schema_editor: Any) -> None:
    Circle = apps.get_model("circles", "Circle")
    CovenantVersion = apps.get_model("circles", "CovenantVersion")
    Membership = apps.get_model("circles", "Membership")
    CircleLink = apps.get_model("links", "CircleLink")
    today = timezone.localdate()
    now = timezone.now()
    rules: dict[int, tuple[int, int]] = {}
    for circle in Circle.objects.all().order_by("pk"):
        if circle.federation_id not in rules:
            covenant = (
                CovenantVersion.objects.filter(federation_id=circle.federation_id)
                .order_by("-number")
                .first()
            )
            parameters = covenant.parameters if covenant is not None else {}
            rules[circle.federation_id] = (
                _rule(parameters, "links_required", DEFAULT_LINKS_REQUIRED),
                _rule(parameters, "min_circle_size", DEFAULT_MIN_CIRCLE_SIZE),
            )
        links_required, min_circle_size = rules[circle.federation_id]
        live_links = CircleLink.objects.filter(
            asking_circle_id=circle.pk, status="validated", lapses_on__gt=today
        ).count()
        members = Membership.objects.filter(
            circle_id=circle.pk, left_at__isnull=True, practitioner__isnull=False
        ).count()
        validated = live_links >= links_required and members >= min_circle_size
        status = "member" if validated else "forming"
        if circle.status != status:
            Circle.objects.filter(pk=circle.pk).update(status=status, status_changed_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("links", "0001_initial"),
        ("circles", "0005_delegate_is_a_mandate"),
    ]

    operations = [
        migrations.RunPython(recompute_circle_status, migrations.RunPython.noop, elidable=True),
    ]
