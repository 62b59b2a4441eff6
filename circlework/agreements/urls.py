from django.urls import path

from circlework.agreements import views
from circlework.core.page_cache import cacheable

app_name = "agreements"

urlpatterns = [
    path("circles/<slug:slug>/agreements/", views.agreement_list, name="agreement_list"),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/",
        cacheable(views.agreement_detail),
        name="agreement_detail",
    ),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/review/",
        views.agreement_review,
        name="agreement_review",
    ),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/visibility/",
        views.agreement_visibility,
        name="agreement_visibility",
    ),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/borrow/",
        views.agreement_borrow,
        name="agreement_borrow",
    ),
    path("federations/<slug:slug>/lineage/", views.lineage, name="lineage"),
    path("federations/<slug:slug>/covenant/", cacheable(views.covenant), name="covenant"),
    # Ethical statements: circulated to the federation, published on the public register.
    path(
        "circles/<slug:slug>/agreements/<int:pk>/circulate/",
        views.ethics_circulate,
        name="ethics_circulate",
    ),
    path(
        "circles/<slug:slug>/agreements/<int:pk>/publish/",
        views.ethics_publish,
        name="ethics_publish",
    ),
    path(
        "circles/<slug:slug>/ethics/drafts/<int:pk>/circulate/",
        views.ethics_circulate_draft,
        name="ethics_circulate_draft",
    ),
    path(
        "circles/<slug:slug>/ethics/circulated/<int:pk>/",
        views.ethics_circulation,
        name="ethics_circulation",
    ),
    path(
        "circles/<slug:slug>/ethics/circulated/<int:pk>/comments/",
        views.ethics_comment_add,
        name="ethics_comment_add",
    ),
    path(
        "federations/<slug:slug>/ethics/", cacheable(views.ethics_register), name="ethics_register"
    ),
    path(
        "federations/<slug:slug>/ethics/circulated/",
        views.ethics_circulations,
        name="ethics_circulations",
    ),
]
