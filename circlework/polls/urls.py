from django.urls import path

from circlework.polls import views

app_name = "polls"

urlpatterns = [
    path("circles/<slug:slug>/polls/", views.poll_list, name="poll_list"),
    path("circles/<slug:slug>/polls/new/", views.poll_new, name="poll_new"),
    path("circles/<slug:slug>/polls/<int:pk>/", views.poll_detail, name="poll_detail"),
    path("circles/<slug:slug>/polls/<int:pk>/close/", views.poll_close, name="poll_close"),
]
