"""Schemas in and out. Field names follow the glossary and the models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field, field_validator

VisibilityLevel = Literal["private", "circle", "federation", "public"]
CircleVisibility = Literal["circle", "federation", "public"]


class InSchema(Schema):
    """Base for request bodies: text must be storable as it is.

    PostgreSQL refuses NUL characters in text, which would otherwise end in a server error.
    (Pydantic already refuses lone surrogates.)
    """

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Text may not contain NUL characters.")
        return value


class ErrorOut(Schema):
    error: str
    fields: dict[str, list[str]] = {}


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    time_zone: str


class ProfileOut(Schema):
    id: int
    display_name: str
    display_name_visibility: VisibilityLevel
    pronouns: str
    pronouns_visibility: VisibilityLevel
    modalities: str
    modalities_visibility: VisibilityLevel
    languages: str
    languages_visibility: VisibilityLevel
    location: str
    location_visibility: VisibilityLevel
    statement: str
    statement_visibility: VisibilityLevel
    time_zone: str


class ProfilePatch(InSchema):
    display_name: str | None = Field(None, min_length=1, max_length=120)
    display_name_visibility: VisibilityLevel | None = None
    pronouns: str | None = Field(None, max_length=40)
    pronouns_visibility: VisibilityLevel | None = None
    modalities: str | None = Field(None, max_length=300)
    modalities_visibility: VisibilityLevel | None = None
    languages: str | None = Field(None, max_length=200)
    languages_visibility: VisibilityLevel | None = None
    location: str | None = Field(None, max_length=120)
    location_visibility: VisibilityLevel | None = None
    statement: str | None = Field(None, max_length=5000)
    statement_visibility: VisibilityLevel | None = None
    time_zone: str | None = Field(None, max_length=64)


class PublicProfileOut(Schema):
    id: int
    fields: dict[str, str]


class CredentialOut(Schema):
    id: int
    title: str
    issuer: str
    year: int
    visibility: VisibilityLevel
    has_document: bool


class CredentialIn(InSchema):
    title: str = Field(..., min_length=1, max_length=200)
    issuer: str = Field(..., min_length=1, max_length=200)
    year: int = Field(..., ge=1900, le=2100)
    visibility: VisibilityLevel = "federation"


class FederationOut(Schema):
    slug: str
    name: str
    description: str
    covenant: str
    min_circle_size: int


class CircleOut(Schema):
    slug: str
    name: str
    federation: str
    purpose: str
    locality: str
    meeting_pattern: str
    open_to_new_members: bool
    status: str
    visibility: CircleVisibility
    is_member: bool


class CircleIn(InSchema):
    federation: str = Field(..., min_length=1, max_length=50, description="Federation slug")
    name: str = Field(..., min_length=1, max_length=160)
    purpose: str = Field(..., min_length=1, max_length=3000)
    locality: str = Field("", max_length=160)
    meeting_pattern: str = Field("", max_length=200)
    open_to_new_members: bool = True
    visibility: CircleVisibility = "public"


class CirclePatch(InSchema):
    name: str | None = Field(None, min_length=1, max_length=160)
    purpose: str | None = Field(None, min_length=1, max_length=3000)
    locality: str | None = Field(None, max_length=160)
    meeting_pattern: str | None = Field(None, max_length=200)
    open_to_new_members: bool | None = None
    visibility: CircleVisibility | None = None


class MembershipOut(Schema):
    practitioner_id: int | None
    name: str
    joined_at: datetime
    left_at: datetime | None


class InvitationOut(Schema):
    id: int
    circle: str
    email: str
    status: str
    expires_at: datetime
    created_at: datetime


class InvitationIn(InSchema):
    email: str = Field(..., min_length=3, max_length=254)
    message: str = Field("", max_length=2000)


class InvitationCreatedOut(InvitationOut):
    link: str


class InvitationSecretIn(InSchema):
    secret: str = Field(..., min_length=10, max_length=100)


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read: bool
