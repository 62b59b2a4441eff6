import datetime

from django.db import migrations
from django.utils import timezone


def delegates_become_mandates(apps, schema_editor):
    """A delegate recorded before mandates existed holds a one-year delegate mandate from today.

    No one holds authority without a mandate, so the recorded choice is carried over rather than
    dropped; the circle reviews it at six months like any other.
    """
    Circle = apps.get_model("circles", "Circle")
    Mandate = apps.get_model("mandates", "Mandate")
    today = timezone.localdate()
    for circle in Circle.objects.exclude(delegate=None):
        Mandate.objects.create(
            role="delegate",
            circle=circle,
            holder_id=circle.delegate_id,
            permissions=["decisions.record_circle_position"],
            starts_on=today,
            ends_on=today + datetime.timedelta(days=365),
            review_on=today + datetime.timedelta(days=182),
            handover_plan="Carried over from the delegate the circle recorded before mandates.",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("mandates", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(delegates_become_mandates, migrations.RunPython.noop),
    ]
