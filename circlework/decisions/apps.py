from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "circlework.decisions"
    label = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.decisions import contributions, registrations

        registrations.register()  # agreement and covenant outcomes; proposals on agreements' pages
        contributions.register()  # home sections, export parts, backup part
