from django.urls import path

from circlework.standing import views

app_name = "standing"

P = "circles/<slug:slug>/standing-by/"

urlpatterns = [
    path(P, views.standing_page, name="standing_page"),
    path(P + "<int:pk>/withdraw/", views.standing_withdraw, name="standing_withdraw"),
    path(P + "concerns/<int:pk>/", views.concern_detail, name="concern_detail"),
]
