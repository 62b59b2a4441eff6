"""Production: PostgreSQL via DATABASE_URL, gunicorn + whitenoise, HTTPS only. See README."""

import os

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .dev_keys import DEV_AUDIT_DIGEST_KEY, DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

DEBUG = False


# --- Keys: no fallback, fail closed. base.py has none; the development keys (dev_keys.py) are
# public, so production refuses them as well as a missing key (tests/core/test_settings.py).
def _required(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value or value.strip(", ") == "":
        raise ImproperlyConfigured(
            f"{name} is not set. Production needs its own {what}; "
            "see docs/operations.md for how to make one."
        )
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY", "secret key (sessions, password reset links)")
if SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is the development key, which anyone can read in the source. "
        "Set a random one of your own (docs/operations.md)."
    )

# Keys for sensitive text at rest, newest first (docs/operations.md: rotation).
FIELD_ENCRYPTION_KEYS = [
    k.strip()
    for k in _required("FIELD_ENCRYPTION_KEYS", "encryption keys for sensitive text").split(",")
    if k.strip()
]
for _key in FIELD_ENCRYPTION_KEYS:
    if _key == DEV_FIELD_ENCRYPTION_KEY:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS contains the development key, which anyone can read in the "
            "source: text it encrypted is not protected. Rotate to a key of your own "
            "(docs/operations.md)."
        )
    try:
        Fernet(_key.encode())
    except ValueError as _exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS: each key must be a Fernet key (32 random bytes in URL-safe "
            "base64); see docs/operations.md for how to make one."
        ) from _exc

# The audit chain's actor digests: a key of its own, kept as long as the audit history.
AUDIT_DIGEST_KEY = _required("AUDIT_DIGEST_KEY", "key for the audit history's digests")
if len(AUDIT_DIGEST_KEY) < 32 or AUDIT_DIGEST_KEY in (SECRET_KEY, DEV_AUDIT_DIGEST_KEY):
    raise ImproperlyConfigured(
        "AUDIT_DIGEST_KEY must be a random value of at least 32 characters of its own: not the "
        "secret key, nor the development key anyone can read in the source (docs/operations.md)."
    )

SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() == "true"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
