from django.urls import path

from circlework.decisions import views

app_name = "decisions"

urlpatterns = [
    path("circles/<slug:slug>/decisions/", views.proposal_list, name="proposal_list"),
    path("circles/<slug:slug>/decisions/new/", views.proposal_new, name="proposal_new"),
    path("circles/<slug:slug>/decisions/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path(
        "circles/<slug:slug>/decisions/<int:pk>/versions/", views.version_diff, name="version_diff"
    ),
    path(
        "circles/<slug:slug>/decisions/<int:pk>/position/",
        views.position_take,
        name="position_take",
    ),
    path(
        "circles/<slug:slug>/decisions/<int:pk>/amendments/",
        views.amendment_propose,
        name="amendment_propose",
    ),
    path(
        "circles/<slug:slug>/decisions/<int:pk>/amendments/<int:amendment_pk>/",
        views.amendment_decide,
        name="amendment_decide",
    ),
    path("circles/<slug:slug>/decisions/<int:pk>/comments/", views.comment_add, name="comment_add"),
    path(
        "circles/<slug:slug>/decisions/<int:pk>/comments/<int:comment_pk>/edit/",
        views.comment_edit,
        name="comment_edit",
    ),
    path(
        "circles/<slug:slug>/decisions/<int:pk>/<str:action>/",
        views.proposal_action,
        name="proposal_action",
    ),
]
