from django.urls import path

from circlework.accounts import views
from circlework.core.page_cache import cacheable

app_name = "accounts"

urlpatterns = [
    path("me/profile/", views.profile_edit, name="profile_edit"),
    path("me/profile/preview/", views.profile_preview, name="profile_preview"),
    path("me/credentials/", views.credential_list, name="credential_list"),
    path("me/credentials/<int:pk>/", views.credential_edit, name="credential_edit"),
    path("me/tokens/", views.token_list, name="token_list"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("me/data/", views.data_page, name="data"),
    path("me/data/delete/", views.account_delete, name="account_delete"),
    path(
        "practitioners/<int:pk>/", cacheable(views.practitioner_detail), name="practitioner_detail"
    ),
    path("credentials/<int:pk>/document/", views.credential_document, name="credential_document"),
]
