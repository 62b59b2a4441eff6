"""Local development: `make run`. Embedded SQLite, mail printed to the console."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, DATABASES, FIELD_ENCRYPTION_KEYS, MIDDLEWARE, SECRET_KEY
from .dev_keys import DEV_AUDIT_DIGEST_KEY, DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

DEBUG = True
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1", "localhost", "[::1]"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# A mistyped address shows the product's "not found" page, not the debug page (core/dev_pages.py).
MIDDLEWARE = [*MIDDLEWARE, "circlework.core.dev_pages.ProductNotFoundPage"]

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The audit chain's actor digests (production reads AUDIT_DIGEST_KEY from the environment).
AUDIT_DIGEST_KEY = DEV_AUDIT_DIGEST_KEY

# Development keys (dev_keys.py) unless the environment gives its own; never in production.
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [DEV_FIELD_ENCRYPTION_KEY]

# The development keys are public: a database on another machine (a production one, reached by
# a `manage.py` command run without DJANGO_SETTINGS_MODULE) must never be written with them.
_host = str(DATABASES["default"].get("HOST", ""))
if not (_host in ("", "localhost", "127.0.0.1", "::1") or _host.startswith("/")):  # or a socket
    raise ImproperlyConfigured(
        "config.settings.dev uses the public development keys and only works with a database on "
        "this machine. For a server, set DJANGO_SETTINGS_MODULE=config.settings.prod "
        "(docs/operations.md)."
    )
