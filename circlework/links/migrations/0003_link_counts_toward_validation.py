"""Whether each validated link counts toward its asking circle's validation, and every circle's
status from the links that count.

Before this, any validated link counted, so circles nobody had validated could validate each
other and become "the federation" (issue 10). Now a link counts only if, when it was decided, the
validating circle was validated — or the federation was still being founded: fewer validated
circles, besides the asking circle, than its covenant's number of links (circlework.links.validation_rule).

Existing links were decided without that record, so it is rebuilt here by replaying each
federation's decided links in the order they were decided: at each decision, the validated
circles are those that had, at that moment, at least the covenant's number of counting links
live and at least its minimum of members (from the memberships' join and leave dates). The
federation's current covenant parameters are used throughout (earlier versions are not replayed),
with the same defaults and ranges as circlework.circles.covenant. Then every circle's status is
recomputed from its live counting links, as links 0002 did. Historical models only: the rule is
written out here, so later changes to the app cannot change what this migration did.
"""

from datetime import datetime
from typing import Any

from django.db import migrations, models
from django.utils import timezone

# As circlework.circles.covenant: DEFAULT_* and RANGES, at the time of writing.
DEFAULT_MIN_CIRCLE_SIZE = 4
DEFAULT_LINKS_REQUIRED = 2
RANGES = {"min_circle_size": (2, 50), "links_required": (0, 10)}
COUNTING = ("validated", "founding")


def _rule(parameters: Any, key: str, default: int) -> int:
    params = parameters if isinstance(parameters, dict) else {}
    try:
        number = int(params.get(key))
    except (TypeError, ValueError, OverflowError):
        return default
    minimum, maximum = RANGES[key]
    return number if minimum <= number <= maximum else default


def _members_at(memberships: list[tuple[int, datetime, datetime | None]], circle_id: int, moment: datetime) -> int:
    return sum(
        1
        for c, joined, left in memberships
        if c == circle_id and joined <= moment and (left is None or left > moment)
    )


def mark_counted_links(apps: Any, schema_editor: Any) -> None:
    Circle = apps.get_model("circles", "Circle")
    CovenantVersion = apps.get_model("circles", "CovenantVersion")
    Federation = apps.get_model("circles", "Federation")
    Membership = apps.get_model("circles", "Membership")
    CircleLink = apps.get_model("links", "CircleLink")
    today = timezone.localdate()
    now = timezone.now()
    for federation in Federation.objects.all().order_by("pk"):
        covenant = (
            CovenantVersion.objects.filter(federation_id=federation.pk).order_by("-number").first()
        )
        parameters = covenant.parameters if covenant is not None else {}
        links_required = _rule(parameters, "links_required", DEFAULT_LINKS_REQUIRED)
        min_circle_size = _rule(parameters, "min_circle_size", DEFAULT_MIN_CIRCLE_SIZE)
        circles = dict(
            Circle.objects.filter(federation_id=federation.pk).values_list("pk", "created_at")
        )
        memberships = list(
            Membership.objects.filter(
                circle__federation_id=federation.pk, practitioner__isnull=False
            ).values_list("circle_id", "joined_at", "left_at")
        )
        decided = list(
            CircleLink.objects.filter(
                federation_id=federation.pk,
                status__in=["validated", "lapsed", "withdrawn"],
                validated_on__isnull=False,
            ).order_by("decided_at", "validated_on", "pk")
        )
        counted: list[Any] = []

        def validated_at(moment: datetime) -> set[int]:
            day = timezone.localdate(moment)
            have: dict[int, int] = {}
            for link in counted:
                if (
                    link.validated_on <= day
                    and (link.lapses_on is None or link.lapses_on > day)
                    and (link.ended_at is None or link.ended_at > moment)
                ):
                    have[link.asking_circle_id] = have.get(link.asking_circle_id, 0) + 1
            return {
                pk
                for pk, created in circles.items()
                if created <= moment
                and have.get(pk, 0) >= links_required
                and _members_at(memberships, pk, moment) >= min_circle_size
            }

        for link in decided:
            moment = link.decided_at or timezone.make_aware(
                datetime.combine(link.validated_on, datetime.min.time())
            )
            validated = validated_at(moment)
            if link.validating_circle_id in validated:
                counts = "validated"
            elif len(validated - {link.asking_circle_id}) < links_required:
                counts = "founding"
            else:
                counts = "no"
            CircleLink.objects.filter(pk=link.pk).update(counts=counts)
            if counts in COUNTING:
                counted.append(link)
        for pk in circles:
            live = CircleLink.objects.filter(
                asking_circle_id=pk,
                status="validated",
                lapses_on__gt=today,
                counts__in=COUNTING,
            ).count()
            members = Membership.objects.filter(
                circle_id=pk, left_at__isnull=True, practitioner__isnull=False
            ).count()
            status = "member" if live >= links_required and members >= min_circle_size else "forming"
            Circle.objects.filter(pk=pk).exclude(status=status).update(
                status=status, status_changed_at=now
            )


class Migration(migrations.Migration):
    dependencies = [
        ("links", "0002_recompute_circle_status"),
        ("circles", "0005_delegate_is_a_mandate"),
    ]

    operations = [
        migrations.AddField(
            model_name="circlelink",
            name="counts",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not decided yet"),
                    ("validated", "Counts: the validating circle was validated"),
                    ("founding", "Counts: decided while the federation was being founded"),
                    ("no", "Does not count: the validating circle was not validated"),
                ],
                default="",
                max_length=10,
                verbose_name="counts toward validation",
            ),
        ),
        migrations.RunPython(mark_counted_links, migrations.RunPython.noop, elidable=True),
    ]
