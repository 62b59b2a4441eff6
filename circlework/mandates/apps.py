from django.apps import AppConfig


class MandatesConfig(AppConfig):
    name = "circlework.mandates"
    label = "mandates"
    verbose_name = "Mandates"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.mandates import contributions, registrations

        registrations.register()  # a membership ended; two-factor records
        contributions.register()  # home sections, export parts, backup part
