from django.apps import AppConfig


class CirclesConfig(AppConfig):
    name = "circlework.circles"
    label = "circles"
    verbose_name = "Circles"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.circles import contributions, registrations

        contributions.register()  # home sections, export parts, backup part
        registrations.register()  # account deletion, profile parts
