from django.conf import settings
from django.urls import include, path

from circlework.api.router import api
from circlework.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("robots.txt", core_views.robots_txt, name="robots_txt"),
    path("accounts/", include("allauth.urls")),
    path("", include("circlework.accounts.urls")),
    path("", include("circlework.circles.urls")),
    path("", include("circlework.notifications.urls")),
    path("", include("circlework.decisions.urls")),
    path("", include("circlework.agreements.urls")),
    path("", include("circlework.polls.urls")),
    path("", include("circlework.standing.urls")),
    path("", include("circlework.links.urls")),
    path("", include("circlework.mandates.urls")),
    path("", include("circlework.elections.urls")),
    path("api/v1/", api.urls),
]

if getattr(settings, "ADMIN_ENABLED", False):  # operators only; see docs/operations.md
    from django.contrib import admin

    urlpatterns.append(path("operator-admin/", admin.site.urls))

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE arrives here (RequestDataTooBig) and answers 413.
handler400 = "circlework.core.error_pages.bad_request"
handler403 = "circlework.core.views.permission_denied"
handler404 = "circlework.core.views.page_not_found"
