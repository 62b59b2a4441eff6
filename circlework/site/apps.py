from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The pages that gather every domain app: the home page ("what needs me"), the
    practitioner's "Download everything" and the backup. Above every domain app; each app
    contributes its part through circlework.core.contributions."""

    name = "circlework.site"
    label = "site"
    verbose_name = "Site"
