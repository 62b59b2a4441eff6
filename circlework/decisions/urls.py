from django.urls import path

from circlework.core.page_cache import cacheable
from circlework.decisions import views

app_name = "decisions"

P = "circles/<slug:slug>/decisions/"
F = "federations/<slug:slug>/decisions/"

urlpatterns = [
    path(P, cacheable(views.proposal_list), name="proposal_list"),
    path(P + "new/", views.proposal_new, name="proposal_new"),
    path(P + "<int:pk>/", cacheable(views.proposal_detail), name="proposal_detail"),
    path(P + "<int:pk>/versions/", views.version_diff, name="version_diff"),
    path(P + "<int:pk>/position/", views.position_take, name="position_take"),
    path(P + "<int:pk>/amendments/", views.amendment_propose, name="amendment_propose"),
    path(
        P + "<int:pk>/amendments/<int:amendment_pk>/",
        views.amendment_decide,
        name="amendment_decide",
    ),
    path(P + "<int:pk>/comments/", views.comment_add, name="comment_add"),
    path(P + "<int:pk>/comments/<int:comment_pk>/edit/", views.comment_edit, name="comment_edit"),
    path(P + "<int:pk>/<str:action>/", views.proposal_action, name="proposal_action"),
    path(F, views.federation_proposal_list, name="federation_proposal_list"),
    path(F + "new/", views.federation_proposal_new, name="federation_proposal_new"),
    path(F + "<int:pk>/", views.federation_proposal_detail, name="federation_proposal_detail"),
    path(F + "<int:pk>/position/", views.circle_position_record, name="circle_position_record"),
    path(
        F + "<int:pk>/deliberate/",
        views.federation_proposal_deliberate,
        name="federation_proposal_deliberate",
    ),
    path(F + "<int:pk>/close/", views.federation_proposal_close, name="federation_proposal_close"),
]
