from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "circlework.api"
    label = "api"
    verbose_name = "API"
