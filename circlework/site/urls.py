from django.urls import path

from circlework.core.page_cache import cacheable
from circlework.site import views

urlpatterns = [
    path("", cacheable(views.home), name="home"),
]

# "Download everything" sits with the other "My practice" pages and keeps their namespace:
# config/urls.py adds these to the accounts URLs (accounts:data_export).
account_urlpatterns = [
    path("me/data/export.json", views.data_export, name="data_export"),
]
