from django.apps import AppConfig


class GatheringsConfig(AppConfig):
    name = "circlework.gatherings"
    label = "gatherings"
    verbose_name = "Gatherings"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.gatherings import contributions, registrations

        registrations.register()
        contributions.register()
