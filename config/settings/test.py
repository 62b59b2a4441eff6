"""The test suite. Runs on SQLite unless DATABASE_URL points at PostgreSQL (as CI does)."""

from .base import *  # noqa: F403
from .base import ACCOUNT_RATE_LIMITS, FIELD_ENCRYPTION_KEYS, SECRET_KEY, TASKS
from .dev_keys import DEV_AUDIT_DIGEST_KEY, DEV_FIELD_ENCRYPTION_KEY, DEV_SECRET_KEY

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test run has its own memory cache and database sessions, whatever REDIS_URL says: no
# test reads what another run (or another test process) left in a shared cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Every cacheable page goes through the page cache in tests (one process, so its memory cache is
# shared): a page served out of date fails the test that wrote and looked again.
PAGE_CACHE = True
# Fast hashing in tests only; production and dev use Argon2 (tested in tests/accounts).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
# The access matrix registers for a public gathering from one address many times a module; the
# limit itself is tested in tests/gatherings/test_federation_views.py, which sets its own.
ACCOUNT_RATE_LIMITS = {**ACCOUNT_RATE_LIMITS, "gatherings_public_register": "1000/m/ip"}
# Tasks run at once in tests unless a test asks for the database backend explicitly.
TASKS = {**TASKS, "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The audit chain's actor digests (production reads AUDIT_DIGEST_KEY from the environment).
AUDIT_DIGEST_KEY = DEV_AUDIT_DIGEST_KEY

# Development keys (dev_keys.py) unless the environment gives its own; never in production.
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [DEV_FIELD_ENCRYPTION_KEY]

# A code made just before the 30-second step rolls over still counts on the server, so no test
# waits on the clock (production keeps allauth's default: the current step only).
MFA_TOTP_TOLERANCE = 1
