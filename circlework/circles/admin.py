from django.contrib import admin

from circlework.circles.models import Circle, Federation, Invitation, Membership

admin.site.register(Federation)
admin.site.register(Circle, list_display=["name", "federation", "status"])
admin.site.register(Membership, list_display=["circle", "practitioner", "joined_at", "left_at"])
admin.site.register(
    Invitation,
    list_display=["circle", "email", "status", "expires_at"],
    exclude=["token_hash", "message"],
)
