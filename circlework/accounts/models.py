from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from circlework.core.models import TimeStamped
from circlework.core.visibility import Visibility

TIME_ZONE_CHOICES = sorted((tz, tz.replace("_", " ")) for tz in zoneinfo.available_timezones())


# Where a practitioner's clock is until they say (and a gathering's, when nobody says).
DEFAULT_TIME_ZONE = "Europe/London"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get(self, *args: Any, **kwargs: Any) -> User:
        """One user, read with their practitioner in the same query: every signed-in request
        reads the user (the authentication backends' `get_user` asks `User.objects.get`) and
        then the practitioner. Only this manager shortcut: querysets built from the manager
        (filter, only, select_for_update…) are unchanged."""
        return self.get_queryset().select_related("practitioner").get(*args, **kwargs)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """The log-in. Everything a person is in Circlework lives on their `Practitioner`."""

    email = models.EmailField(_("e-mail address"), unique=True)
    is_active = models.BooleanField(default=True)
    # Operators only (Django admin, documented in docs/operations.md); grants nothing in the product.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised to sign out every other session at once (after an e-mail change, 2FA turned off…):
    # it is part of the session hash Django checks on every request. See get_session_auth_hash.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self) -> str:
        return self.email

    def _generation_hash(self, secret: str | bytes | None = None) -> str:
        # Django's own HMAC of the password hash (private in Django, absent from its stubs).
        base: str = self._get_session_auth_hash(secret=secret)  # type: ignore[attr-defined]
        if not self.session_generation:
            return base  # generation 0: sessions are exactly Django's
        return salted_hmac(
            "circlework.accounts.User.session_generation",
            f"{base}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_session_auth_hash(self) -> str:
        """Django's hash of the password, plus the session generation.

        A session whose stored hash no longer matches is signed out on its next request: a new
        password (Django) or a new generation (accounts.services.sessions_end_others) ends
        every session but those that were given the new hash.
        """
        return self._generation_hash()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._generation_hash(fallback_secret)


class Practitioner(TimeStamped):
    """A practitioner's profile. Each field carries its own visibility level."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="practitioner")
    display_name = models.CharField(_("display name"), max_length=120)
    display_name_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.FEDERATION
    )
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    pronouns_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.CIRCLE
    )
    modalities = models.CharField(
        _("modalities and approaches"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated, e.g. person-centred, gestalt, body psychotherapy."),
    )
    modalities_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.FEDERATION
    )
    languages = models.CharField(
        _("languages"), max_length=200, blank=True, help_text=_("Comma-separated.")
    )
    languages_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.FEDERATION
    )
    location = models.CharField(
        _("town or region"),
        max_length=120,
        blank=True,
        help_text=_("A town or region only — never a street address."),
    )
    location_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.CIRCLE
    )
    statement = models.TextField(
        _("professional statement"),
        blank=True,
        max_length=5000,
        help_text=_(
            "How you work and what you offer. You can use simple formatting: **bold**, # heading, - list."
        ),
    )
    statement_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.CIRCLE
    )
    # Validated against the zone database in clean(); choices live on the form so that a tzdata
    # update does not need a migration.
    time_zone = models.CharField(_("time zone"), max_length=64, default=DEFAULT_TIME_ZONE)

    PROFILE_FIELDS = (
        "display_name",
        "pronouns",
        "modalities",
        "languages",
        "location",
        "statement",
    )

    class Meta:
        ordering = ["display_name"]
        # Lists of people are sorted by name, and the nominee search reads names in that order.
        indexes = [models.Index(fields=["display_name"], name="practitioner_name")]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Choose a time zone from the list.")})
        if self.location and any(ch.isdigit() for ch in self.location):
            raise ValidationError(
                {"location": _("Give a town or region, not an address or postcode.")}
            )

    def visibility_of(self, field_name: str) -> str:
        return str(getattr(self, f"{field_name}_visibility"))

    @property
    def modality_list(self) -> list[str]:
        return [m.strip() for m in self.modalities.split(",") if m.strip()]

    @property
    def language_list(self) -> list[str]:
        return [m.strip() for m in self.languages.split(",") if m.strip()]


def credential_upload_to(instance: Credential, filename: str) -> str:
    # The stored name never carries the uploader's file name (it may hold client details).
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"credentials/{instance.practitioner_id}/{timezone.now():%Y%m%d%H%M%S%f}.{suffix}"


class Credential(TimeStamped):
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="credentials"
    )
    title = models.CharField(_("title"), max_length=200)
    issuer = models.CharField(_("issued by"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    document = models.FileField(_("document"), upload_to=credential_upload_to, blank=True)
    document_content_type = models.CharField(max_length=100, blank=True)
    visibility = models.CharField(
        _("who can see this"),
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.FEDERATION,
    )

    class Meta:
        ordering = ["-year", "title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.issuer}, {self.year})"

    def clean(self) -> None:
        this_year = timezone.now().year
        if self.year is not None and not (1900 <= self.year <= this_year):
            raise ValidationError(
                {"year": _("Give a year between 1900 and %(y)s.") % {"y": this_year}}
            )


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the secret is shown once at creation."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Whether the session that created the token had used a second factor. A token carries that
    # session's standing (api.auth.TokenAuth marks its requests with it), so only such a token
    # reaches a circle that requires two-factor authentication. Tokens made before this was
    # recorded count as made without it.
    created_with_second_factor = models.BooleanField(
        _("created in a session that used two-factor authentication"), default=False
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
