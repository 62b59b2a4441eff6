from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "circlework.notifications"
    label = "notifications"
    verbose_name = "Notifications"
