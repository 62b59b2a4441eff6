from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "circlework.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from circlework.accounts import adapter  # noqa: F401  (connects allauth's signals)
