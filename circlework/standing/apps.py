from django.apps import AppConfig


class StandingConfig(AppConfig):
    name = "circlework.standing"
    label = "standing"
    verbose_name = "Standing by"
