from django.apps import AppConfig


class MandatesConfig(AppConfig):
    name = "circlework.mandates"
    label = "mandates"
    verbose_name = "Mandates"
