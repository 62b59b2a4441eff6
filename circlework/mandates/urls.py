from django.urls import path

from circlework.mandates import views

app_name = "mandates"

urlpatterns = [
    path("circles/<slug:slug>/mandates/", views.circle_mandates, name="circle_mandates"),
    path(
        "federations/<slug:slug>/mandates/", views.federation_mandates, name="federation_mandates"
    ),
    path("federations/<slug:slug>/notices/", views.federation_notices, name="federation_notices"),
    path("federations/<slug:slug>/notices/new/", views.federation_notice, name="federation_notice"),
    path("mandates/<int:pk>/", views.mandate_detail, name="mandate_detail"),
    path("mandates/<int:pk>/resign/", views.mandate_resign, name="mandate_resign"),
    path("mandates/<int:pk>/handover/", views.mandate_handover, name="mandate_handover"),
]
