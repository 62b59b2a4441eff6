from django.urls import path

from circlework.core.page_cache import cacheable
from circlework.elections import views

app_name = "elections"

E = "elections/<int:pk>/"

urlpatterns = [
    path("circles/<slug:slug>/elections/", views.election_list_circle, name="election_list_circle"),
    path(
        "circles/<slug:slug>/elections/new/",
        views.election_open_circle,
        name="election_open_circle",
    ),
    path(
        "federations/<slug:slug>/elections/",
        views.election_list_federation,
        name="election_list_federation",
    ),
    path(
        "federations/<slug:slug>/elections/new/",
        views.election_open_federation,
        name="election_open_federation",
    ),
    path(E, cacheable(views.election_detail), name="election_detail"),
    path(E + "nominees/", views.nominee_search, name="nominee_search"),
    path(E + "people/<slug:which>/", views.election_people, name="election_people"),
    path(E + "nominate/", views.nomination_add, name="nomination_add"),
    path(
        E + "nominations/<int:nomination_pk>/answer/",
        views.nomination_answer,
        name="nomination_answer",
    ),
    path(E + "change-nomination/", views.nomination_change, name="nomination_change"),
    path(E + "change-round/", views.election_change_round, name="election_change_round"),
    path(E + "propose/", views.election_propose, name="election_propose"),
    path(E + "consent/", views.consent_respond, name="consent_respond"),
    path(E + "vote/", views.ballot_cast, name="ballot_cast"),
    path(E + "cancel/", views.election_cancel, name="election_cancel"),
]
