from django.apps import AppConfig


class ElectionsConfig(AppConfig):
    name = "circlework.elections"
    label = "elections"
    verbose_name = "Elections"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.elections import contributions, registrations

        registrations.register()  # an election's circle, for the two-factor hint
        contributions.register()  # home sections, export parts, backup part
