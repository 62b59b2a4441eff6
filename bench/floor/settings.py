"""Settings of the floor project: nothing Django does not need to answer one view."""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "floor-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(",") if h]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
TEMPLATES: list[dict[str, object]] = []
USE_I18N = False
USE_TZ = True
