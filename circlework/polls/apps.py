from django.apps import AppConfig


class PollsConfig(AppConfig):
    name = "circlework.polls"
    label = "polls"
    verbose_name = "Polls"
