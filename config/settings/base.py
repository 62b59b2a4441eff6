"""Settings shared by every environment. Environment files only override what differs."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# No default here: dev.py and test.py fall back to development keys (dev_keys.py), prod.py
# refuses to start without its own (docs/operations.md).
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
DEBUG = False
ALLOWED_HOSTS: list[str] = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "rules.apps.AutodiscoverRulesConfig",
    "circlework.core",
    "circlework.accounts",
    "circlework.circles",
    "circlework.notifications",
    "circlework.decisions",
    "circlework.agreements",
    "circlework.polls",
    "circlework.standing",
    "circlework.links",
    "circlework.mandates",
    "circlework.elections",
    "circlework.gatherings",
    # Above the domain apps: home page, "Download everything", backup (core.contributions).
    "circlework.site",
    "circlework.api",
    # The demo federation (manage.py seed_demo); no models, so harmless in production.
    "circlework.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages go out compressed (static files are compressed by whitenoise, above). Django's GZip
    # has mitigated BREACH since 4.2: it puts a random number of bytes (up to 100) in the gzip
    # header's file name, so the compressed length no longer tells a secret in the page
    # ("Heal The Breach", django/utils/text.py: compress_string), on top of the per-request
    # masking of the CSRF token. Placed before everything that writes the body.
    "django.middleware.gzip.GZipMiddleware",
    # A read-only request remembers what its parts ask more than once (core/request_memo.py).
    "circlework.core.request_memo.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A page drawn before and unchanged since is answered from memory, before the user is loaded
    # (core/page_cache.py; its key needs the session, the language and the CSRF cookie above).
    "circlework.core.page_cache.PageCacheMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after the user is known: did this session use a second factor (core.visibility)?
    "circlework.circles.middleware.SecondFactorSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "circlework.core.middleware.PractitionerTimezoneMiddleware",
    "circlework.core.middleware.SecurityHeadersMiddleware",
    # Before anything reads the body (the CSRF check reads a form in its view step, after every
    # middleware has been called), inside the security headers.
    "circlework.core.middleware.RequestSizeMiddleware",
    # Last, so the security headers wrap its redirects too.
    "circlework.circles.middleware.TwoFactorCircleMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# Every form field is drawn by Django's templates; a text field with a limit also says so.
FORM_RENDERER = "circlework.core.form_renderer.CharacterLimitRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "circlework" / "templates"],
        "APP_DIRS": True,
        # No "loaders": django-template-partials puts its loader around Django's cached loader
        # (each template compiled once per process), in production as everywhere
        # (tests/core/test_settings.py).
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "circlework.site.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        # A persistent connection is checked before a request reuses it, so the server recovers
        # by itself once the database is back after a restart or failover (bench/load.py).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the background worker and the web server share the file without "database is locked".
    # secure_delete: SQLite overwrites what a deletion or an update frees with zeros, so an erased
    # account's name and e-mail do not linger in free space of the file (tests/core/test_erasure.py).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# --- Cache. REDIS_URL (redis://host:6379/0): Django's own RedisCache, shared by every worker
# process, and sessions read through it (cached_db: written to the database as well, so a
# restart of Redis signs nobody out). Without it each process has its own memory cache, and
# sessions stay in the database alone: a session ended in one worker (signing out, a new
# password) must not stay valid in another worker's copy.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "circlework",
            # A Redis host that stops answering costs a request a second at most, not a hang.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Kept pages (core/page_cache.py). On only with a cache every process shares: a write in one
# process (a worker, the task runner) must reach every other one. CIRCLEWORK_PAGE_CACHE=0 or 1
# decides otherwise (the benchmark measures both ways).
PAGE_CACHE = os.environ.get("CIRCLEWORK_PAGE_CACHE", "1" if REDIS_URL else "0").strip() == "1"
# What changes with the clock alone ("closes in 3 hours") is at most this many seconds behind.
PAGE_CACHE_SECONDS = 60
PAGE_CACHE_MAX_BYTES = 32 * 1024 * 1024  # per worker process
PAGE_CACHE_MAX_PAGE_BYTES = 256 * 1024

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- allauth: e-mail is the log-in; verification is mandatory; TOTP + recovery codes.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Circlework] "
# The invitation a browser came with fills in the sign-up address and comes first after signing
# in: circles adds it to accounts' form and adapter (circlework/circles/signup.py).
ACCOUNT_FORMS = {"signup": "circlework.circles.signup.InvitationSignupForm"}
ACCOUNT_ADAPTER = "circlework.circles.signup.InvitationAccountAdapter"
# Lock-out after repeated failures: allauth's rate limits (per IP and per account). The IP is the
# client's own, read by circlework.core.client_ip (the adapter's get_client_ip), which believes
# X-Forwarded-For only from these reverse proxies: addresses or networks, comma-separated
# (docs/operations.md). Empty: the direct peer's address, and X-Forwarded-For is ignored.
TRUSTED_PROXIES: list[str] = [
    p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()
]
for _proxy in TRUSTED_PROXIES:  # a typo here would silently lock everyone out again: stop
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 10.0.0.0/8)."
        ) from _exc
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/h/ip",
    "confirm_email": "5/3m/key",
    "reset_password": "20/m/ip,5/5m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "change_email": "3/m/user",
    # Registering for a public federation gathering (gatherings/views/federation.py).
    "gatherings_public_register": "10/h/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Circlework"
MFA_RECOVERY_CODE_COUNT = 10
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"
LOGOUT_REDIRECT_URL = "home"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "true").lower() == "true"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Circlework <noreply@circlework.local>")

# --- Time and language: stored in UTC, shown in each practitioner's own zone.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "circlework" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "circlework" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"  # never served directly: documents go through a permission-checked view
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760

# --- Background work: django-tasks with its database backend; `manage.py run_worker` runs it.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Keys for sensitive text at rest (comma-separated Fernet keys, newest first). See docs/operations.md.
# No default here either (see SECRET_KEY).
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in os.environ.get("FIELD_ENCRYPTION_KEYS", "").split(",") if k.strip()
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Django admin is an operator tool; off unless explicitly enabled (see docs/operations.md).
ADMIN_ENABLED = os.environ.get("ADMIN_ENABLED", "false").lower() == "true"
if ADMIN_ENABLED:
    INSTALLED_APPS.insert(0, "django.contrib.admin")

# Absolute base for links in e-mails (invitations, notifications).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

CREDENTIAL_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
INVITATION_LIFETIME_DAYS = 14

# Finished background tasks (their rows name what they worked on) are deleted after this many
# days by the recurring `purge_finished_tasks` (circlework/core/tasks.py).
FINISHED_TASK_RETENTION_DAYS = 7

# The key of the audit chain's actor digests (circlework.core.audit.actor_digest): who acted
# stays verifiable after their account is deleted, and cannot be recovered without this key.
# Its own key, not SECRET_KEY: set in each environment's settings (required in production).

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"circlework": {"level": "INFO"}},
}
CSRF_FAILURE_VIEW = "circlework.core.views.csrf_failure"
