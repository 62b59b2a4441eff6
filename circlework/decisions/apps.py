from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "circlework.decisions"
    label = "decisions"
    verbose_name = "Decisions"
