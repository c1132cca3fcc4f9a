"""Helpdesk settings: one module, every deployment knob read from the environment."""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state that is never committed: SQLite file, generated demo keys.
VAR_DIR = Path(os.environ.get("HELPDESK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("HELPDESK_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set")
    # A development default; production deployments set SECRET_KEY.
    SECRET_KEY = "dev-insecure-helpdesk-key-change-me"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "helpdesk",
    "integrations.cobrowse",
    "helpdesk.chat",
    "helpdesk.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

AUTHENTICATION_BACKENDS = ["helpdesk.auth_backend.AgentModelBackend"]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpdesk.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the task worker writes; IMMEDIATE transactions take
    # the write lock up front, so a writer waits for another instead of failing with "locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    })
    # Tests use a file, not shared memory: a live server thread and a task worker in the test
    # then wait on each other's locks instead of failing with "table is locked".
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"helpdesk-test-{os.getpid()}.sqlite3")
    }
else:
    # One test database per test run, so concurrent or interrupted runs never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Cached page fragments are keyed by versions read from the database, so a per-process cache is
# correct too; Redis lets the processes share them, and the sessions. Clearing a Redis cache
# empties its whole Redis database: REDIS_CACHE_URL can give it one apart from the channel layer's.
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", REDIS_URL)
if REDIS_CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ticket_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The official Cobrowse agent SDK, installed from npm (package.json), served as a file.
    ("vendor/cobrowse-agent-sdk", BASE_DIR / "node_modules" / "cobrowse-agent-sdk" / "dist" / "umd-browser"),
]
WHITENOISE_USE_FINDERS = True

# --- Cobrowse -----------------------------------------------------------------------------------
# Defaults point at the local sandbox (sandbox/); the real service is configuration only:
# COBROWSE_API=https://cobrowse.io, COBROWSE_LICENSE_KEY=..., COBROWSE_PRIVATE_KEY_FILE=...
COBROWSE_KEYS_DIR = Path(os.environ.get("COBROWSE_KEYS_DIR", VAR_DIR / "cobrowse"))
COBROWSE_API = os.environ.get("COBROWSE_API", "http://127.0.0.1:8001").rstrip("/")
COBROWSE_LICENSE_KEY = os.environ.get("COBROWSE_LICENSE_KEY", "")
COBROWSE_LICENSE_KEY_FILE = Path(
    os.environ.get("COBROWSE_LICENSE_KEY_FILE", COBROWSE_KEYS_DIR / "license_key.txt")
)
COBROWSE_PRIVATE_KEY_FILE = Path(
    os.environ.get("COBROWSE_PRIVATE_KEY_FILE", COBROWSE_KEYS_DIR / "agent_private_key.pem")
)
# How Cobrowse and links in custom_data reach this helpdesk.
HELPDESK_PUBLIC_URL = os.environ.get("HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
COBROWSE_JWT_AUDIENCE = os.environ.get("COBROWSE_JWT_AUDIENCE", "https://cobrowse.io")
COBROWSE_JWT_LIFETIME = int(os.environ.get("COBROWSE_JWT_LIFETIME", "600"))
COBROWSE_CONNECT_TIMEOUT = float(os.environ.get("COBROWSE_CONNECT_TIMEOUT", "3"))
COBROWSE_READ_TIMEOUT = float(os.environ.get("COBROWSE_READ_TIMEOUT", "10"))

# --- Live chat ----------------------------------------------------------------------------------
CHAT_GRACE_SECONDS = int(os.environ.get("CHAT_GRACE_SECONDS", "120"))  # customer gone this long: chat closes
# A widget sends a heartbeat every 30 s; a customer counted as connected with none for this long
# lost their connection without a goodbye (a killed process) and is marked gone by `chat_presence`.
CHAT_PRESENCE_TIMEOUT_SECONDS = int(os.environ.get("CHAT_PRESENCE_TIMEOUT_SECONDS", "90"))
CHAT_MAX_MESSAGE_CHARS = int(os.environ.get("CHAT_MAX_MESSAGE_CHARS", "4000"))
CHAT_RATE_MESSAGES = int(os.environ.get("CHAT_RATE_MESSAGES", "10"))  # per connection, token bucket:
CHAT_RATE_PERIOD_SECONDS = float(os.environ.get("CHAT_RATE_PERIOD_SECONDS", "10"))  # ... refilled over this
CHAT_IDENTITY_MAX_LIFETIME = int(os.environ.get("CHAT_IDENTITY_MAX_LIFETIME", str(7 * 24 * 3600)))
CHAT_DEMO_PAGE = env_bool("CHAT_DEMO_PAGE", DEBUG)  # /demo/chat/: a customer page with the widget
CHAT_DEMO_SITE = os.environ.get("CHAT_DEMO_SITE", "demo")
CHAT_DEMO_IDENTITY_LIFETIME = int(os.environ.get("CHAT_DEMO_IDENTITY_LIFETIME", "3600"))

# --- Webhooks -----------------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = int(os.environ.get("WEBHOOK_MAX_BODY_BYTES", str(64 * 1024)))
# Seconds between an outgoing delivery's attempts; after the last one it is marked failed.
WEBHOOK_RETRY_DELAYS = [float(s) for s in os.environ.get("WEBHOOK_RETRY_DELAYS", "10,60,300,1800,7200").split(",")]
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "10"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
