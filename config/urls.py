from django.conf import settings
from django.urls import include, path

from circlework.accounts import urls as accounts_urls
from circlework.api.router import api
from circlework.core import views as core_views
from circlework.site import urls as site_urls

urlpatterns = [
    path("", include(site_urls.urlpatterns)),  # home, "what needs me"
    path("robots.txt", core_views.robots_txt, name="robots_txt"),
    path("accounts/", include("allauth.urls")),
    # "My practice" pages; "Download everything" (site, as it gathers every app) among them.
    path(
        "",
        include(
            (accounts_urls.urlpatterns + site_urls.account_urlpatterns, accounts_urls.app_name)
        ),
    ),
    path("", include("circlework.circles.urls")),
    path("", include("circlework.notifications.urls")),
    path("", include("circlework.decisions.urls")),
    path("", include("circlework.agreements.urls")),
    path("", include("circlework.polls.urls")),
    path("", include("circlework.standing.urls")),
    path("", include("circlework.links.urls")),
    path("", include("circlework.mandates.urls")),
    path("", include("circlework.elections.urls")),
    path("", include("circlework.gatherings.urls")),
    path("api/v1/", api.urls),
]

if getattr(settings, "ADMIN_ENABLED", False):  # operators only; see docs/operations.md
    from django.contrib import admin

    urlpatterns.append(path("operator-admin/", admin.site.urls))

# A body over DATA_UPLOAD_MAX_MEMORY_SIZE arrives here (RequestDataTooBig) and answers 413.
handler400 = "circlework.core.error_pages.bad_request"
handler403 = "circlework.core.views.permission_denied"
handler404 = "circlework.core.views.page_not_found"
