from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "circlework.agreements"
    label = "agreements"
    verbose_name = "Agreements"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.agreements import contributions, registrations

        contributions.register()  # home sections, export parts, backup part
        registrations.register()  # tabs
