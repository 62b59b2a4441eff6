from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "circlework.agreements"
    label = "agreements"
    verbose_name = "Agreements"
