from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "circlework.links"
    label = "links"
    verbose_name = "Circle links"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.links import contributions, registrations

        registrations.register()  # decision outcomes, circle changes, two-factor records
        contributions.register()  # home sections, export parts, backup part
