from django.apps import AppConfig


class ElectionsConfig(AppConfig):
    name = "circlework.elections"
    label = "elections"
    verbose_name = "Elections"
