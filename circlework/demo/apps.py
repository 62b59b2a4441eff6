from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo federation (`manage.py seed_demo`), built through every app's real services.
    On the top floor, beside site and api, so that no production app imports demo data; it has
    no models and registers nothing."""

    name = "circlework.demo"
    label = "demo"
    verbose_name = "Demo"
