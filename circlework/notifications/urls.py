from django.urls import path

from circlework.core.page_cache import cacheable
from circlework.notifications import views

app_name = "notifications"

urlpatterns = [
    path("me/notifications/", cacheable(views.inbox), name="inbox"),
    path("me/notifications/<int:pk>/read/", views.mark_read, name="mark_read"),
    path("me/notifications/read-all/", views.mark_all_read, name="mark_all_read"),
    path("me/notifications/settings/", views.preferences, name="preferences"),
]
