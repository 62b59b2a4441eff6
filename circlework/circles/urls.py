from django.urls import path

from circlework.circles import views
from circlework.core.page_cache import cacheable

app_name = "circles"

urlpatterns = [
    path("federations/", views.federation_list, name="federation_list"),
    path("federations/<slug:slug>/", cacheable(views.federation_detail), name="federation_detail"),
    path("circles/", views.circle_list, name="circle_list"),
    path("circles/new/", views.circle_found, name="circle_found"),
    path("circles/<slug:slug>/", cacheable(views.circle_detail), name="circle_detail"),
    path("circles/<slug:slug>/edit/", views.circle_edit, name="circle_edit"),
    path("circles/<slug:slug>/invitations/", views.circle_invitations, name="circle_invitations"),
    path(
        "circles/<slug:slug>/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("circles/<slug:slug>/leave/", views.circle_leave, name="circle_leave"),
    path("circles/<slug:slug>/history/", views.circle_history, name="circle_history"),
    # Before the secret's pattern: the invitation this browser's session came with.
    path("invitations/waiting/", views.invitation_continue, name="invitation_continue"),
    path("invitations/<str:secret>/", views.invitation_respond, name="invitation_respond"),
]
