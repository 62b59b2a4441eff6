from django.apps import AppConfig

from circlework.core import page_cache


class CoreConfig(AppConfig):
    name = "circlework.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        page_cache.watch_connections()
