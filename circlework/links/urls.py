from django.urls import path

from circlework.core.page_cache import cacheable
from circlework.links import views

app_name = "links"

L = "links/<int:pk>/"

urlpatterns = [
    path("circles/<slug:slug>/links/", views.circle_links, name="circle_links"),
    path(L, views.link_detail, name="link_detail"),
    path(L + "cancel/", views.link_cancel, name="link_cancel"),
    path(L + "meetings/", views.meeting_record, name="meeting_record"),
    path(L + "decision/", views.decision_open, name="decision_open"),
    path(L + "statement/", views.statement_set, name="statement_set"),
    path(L + "withdraw/", views.link_withdraw, name="link_withdraw"),
    path("federations/<slug:slug>/map/", cacheable(views.federation_map), name="federation_map"),
]
