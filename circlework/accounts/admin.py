"""Operator admin (off unless ADMIN_ENABLED); see docs/operations.md."""

from django.contrib import admin

from circlework.accounts.models import Credential, Practitioner, User

admin.site.register(
    User, search_fields=["email"], list_display=["email", "is_active", "date_joined"]
)
admin.site.register(Practitioner, search_fields=["display_name", "user__email"])
admin.site.register(Credential, list_display=["title", "issuer", "year", "practitioner"])
