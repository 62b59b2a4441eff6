from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "circlework.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The one place an import waits inside a function (tests/core/test_architecture.py):
        # what this app registers with the floors below it reads models, which exist only once
        # Django has loaded every app.
        from circlework.accounts import (
            adapter,  # noqa: F401 (connects allauth's signals)
            contributions,
        )

        contributions.register()  # home sections, export parts, backup part
