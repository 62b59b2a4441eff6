"""Local development: `make run`. Embedded SQLite, mail printed to the console."""

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, FIELD_ENCRYPTION_KEYS, SECRET_KEY
from .dev_keys import DEV_AUDIT_DIGEST_KEY, DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

DEBUG = True
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1", "localhost", "[::1]"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The audit chain's actor digests (production reads AUDIT_DIGEST_KEY from the environment).
AUDIT_DIGEST_KEY = DEV_AUDIT_DIGEST_KEY

# Development keys (dev_keys.py) unless the environment gives its own; never in production.
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [DEV_FIELD_ENCRYPTION_KEY]
