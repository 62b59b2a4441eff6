from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "circlework.accounts"
    label = "accounts"
    verbose_name = "Accounts"
