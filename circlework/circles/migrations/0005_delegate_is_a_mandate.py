from django.db import migrations


class Migration(migrations.Migration):
    """The recorded delegate became a Mandate (mandates 0002 carried it over)."""

    dependencies = [
        ("circles", "0004_covenant_versions"),
        ("mandates", "0002_delegates_become_mandates"),
    ]

    operations = [
        migrations.RemoveField(model_name="circle", name="delegate"),
    ]
