from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "circlework.core"
    label = "core"
    verbose_name = "Core"
