from django.apps import AppConfig


class CirclesConfig(AppConfig):
    name = "circlework.circles"
    label = "circles"
    verbose_name = "Circles"
