"""Settings of the Cobrowse sandbox: its own project, database and URLs."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HELPDESK_VAR_DIR", BASE_DIR / "var"))


def env_float(name, default):
    return float(os.environ.get(name, default))


SECRET_KEY = os.environ.get("SANDBOX_SECRET_KEY", "sandbox-not-secret")
DEBUG = os.environ.get("SANDBOX_DEBUG", "").lower() in {"1", "true", "yes"}
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "daphne",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "channels",
    "sandbox",
]
MIDDLEWARE = ["sandbox.http.SandboxMiddleware", "whitenoise.middleware.WhiteNoiseMiddleware"]
ROOT_URLCONF = "sandbox.urls"
ASGI_APPLICATION = "sandbox.asgi.application"
APPEND_SLASH = False
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
# Connections are kept (sync code runs on one server thread): a new SQLite connection starts with
# a cold page cache, which made a 1,000-session listing about 1.5x slower.
DATABASES = {"default": dj_database_url.parse(
    os.environ.get("SANDBOX_DATABASE_URL", f"sqlite:///{VAR_DIR / 'sandbox.sqlite3'}"),
    conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                                       "timeout": 20, "transaction_mode": "IMMEDIATE"}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True

SANDBOX_PUBLIC_URL = os.environ.get("SANDBOX_PUBLIC_URL", "http://127.0.0.1:8001").rstrip("/")
SANDBOX_KEYS_DIR = Path(os.environ.get("COBROWSE_KEYS_DIR", VAR_DIR / "cobrowse"))
SANDBOX_CONTROL_API = os.environ.get("SANDBOX_CONTROL_API", "on").lower() not in {"off", "0", "false", "no"}
SANDBOX_CODE_LIFETIME = env_float("SANDBOX_CODE_LIFETIME", 1200)
SANDBOX_AUTHORIZING_TIMEOUT = env_float("SANDBOX_AUTHORIZING_TIMEOUT", 300)
SANDBOX_ACTIVE_TIMEOUT = env_float("SANDBOX_ACTIVE_TIMEOUT", 300)
SANDBOX_NOTIFY_JOIN_DELAY = env_float("SANDBOX_NOTIFY_JOIN_DELAY", 1)
SANDBOX_SWEEP_INTERVAL = env_float("SANDBOX_SWEEP_INTERVAL", 1)
# Extra JWT audiences accepted besides https://cobrowse.io (comma-separated).
SANDBOX_EXTRA_AUDIENCES = [a for a in os.environ.get("SANDBOX_EXTRA_AUDIENCES", "").split(",") if a]
# Origins allowed to frame the embeds ("*" = any).
SANDBOX_FRAME_ANCESTORS = os.environ.get("SANDBOX_FRAME_ANCESTORS", "*")
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
