from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "circlework.links"
    label = "links"
    verbose_name = "Circle links"
