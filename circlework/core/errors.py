"""One error hierarchy for the service layer, rendered in one shape by views and the API.

Services raise these; views turn them into form errors or messages, the API into
`{"error": ..., "fields": {...}}` with the status code carried here.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = str(message) if message is not None else str(_("That could not be done."))
        self.fields: dict[str, list[str]] = fields or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        return {"error": self.message, "fields": self.fields}


class InvalidInput(ApplicationError):
    status_code = 400

    @classmethod
    def from_django(cls, exc: DjangoValidationError) -> InvalidInput:
        if hasattr(exc, "error_dict"):
            fields = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
            general = fields.pop("__all__", [])
            message = general[0] if general else str(_("Please correct the errors below."))
            return cls(message, fields=fields)
        return cls("; ".join(str(m) for m in exc.messages))


class NotAllowed(ApplicationError):
    status_code = 403

    def __init__(self, message: str | None = None, **kwargs: object):
        super().__init__(message or str(_("You are not allowed to do that.")))


class NotFound(ApplicationError):
    status_code = 404

    def __init__(self, message: str | None = None, **kwargs: object):
        super().__init__(message or str(_("Not found.")))


class Conflict(ApplicationError):
    status_code = 409


class TooLarge(ApplicationError):
    """A request body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django's RequestDataTooBig)."""

    status_code = 413

    def __init__(self, message: str | None = None, **kwargs: object):
        super().__init__(message or too_large_message())


def too_large_message() -> str:
    from django.conf import settings
    from django.template.defaultfilters import filesizeformat

    return str(
        _("The request is too large: at most %(size)s can be sent at once.")
        % {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    )


class StaleEdit(Conflict):
    """An edit written on a version that is no longer current (optimistic versioning).

    Nothing is saved; views keep the user's text and move the form on to `current`, so that
    sending it again is a deliberate choice made having seen what changed.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        current: int,
        fields: dict[str, list[str]] | None = None,
    ):
        super().__init__(message, fields=fields)
        self.current = current
