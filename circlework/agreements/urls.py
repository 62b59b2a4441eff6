from django.urls import path

from circlework.agreements import views

app_name = "agreements"

urlpatterns = [
    path("circles/<slug:slug>/agreements/", views.agreement_list, name="agreement_list"),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"
    ),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/review/",
        views.agreement_review,
        name="agreement_review",
    ),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/borrow/",
        views.agreement_borrow,
        name="agreement_borrow",
    ),
    path("federations/<slug:slug>/lineage/", views.lineage, name="lineage"),
]
