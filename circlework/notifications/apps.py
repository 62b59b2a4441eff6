from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "circlework.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.notifications import contributions, registrations

        contributions.register()  # home sections, export parts, backup part
        registrations.register()  # account notices and deletion
