"""Helpdesk settings: one module, every deployment knob read from the environment.

Values are parsed by environs: a value it does not understand ("ture") is a start-up error, never a
silent default. With DEBUG off nothing falls back to a development value: SECRET_KEY, COBROWSE_API
and FIELD_ENCRYPTION_KEYS must be set (deploy/production.env.example lists every variable).
"""

import ipaddress
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from environs import Env, validate

BASE_DIR = Path(__file__).resolve().parent.parent

env = Env()
# ENV_FILE: a dotenv file read before the environment (values already set in the environment win).
if env.str("ENV_FILE", ""):
    env.read_env(env.str("ENV_FILE"), recurse=False, override=False)

# Local state that is never committed: SQLite file, generated demo keys.
VAR_DIR = env.path("HELPDESK_VAR_DIR", BASE_DIR / "var")

DEBUG = env.bool("DEBUG", False)


def production_value(name, development_default, parse=env.str, **kwargs):
    """A value every production deployment sets itself: with DEBUG off its absence is an error
    naming the variable; only a DEBUG process falls back to the development default."""
    value = parse(name, None, **kwargs)
    if value in (None, "", []):
        if not DEBUG:
            raise ImproperlyConfigured(
                f"{name} must be set when DEBUG is off (see deploy/production.env.example)."
            )
        return development_default
    return value


SECRET_KEY = production_value("SECRET_KEY", "dev-insecure-helpdesk-key-change-me")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # runserver serves static files through WhiteNoise from STATIC_ROOT too, never through finders.
    "whitenoise.runserver_nostatic",
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
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    "helpdesk",
    "integrations.cobrowse",
    "helpdesk.chat",
    "helpdesk.webhooks",
    "helpdesk.ops",
]

MIDDLEWARE = [
    "helpdesk.request_ids.RequestIdMiddleware",
    "helpdesk.ops.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "helpdesk.static_files.CollectedStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses sign-ins for a user or an address after repeated failures (AXES_* below).
    "axes.backends.AxesStandaloneBackend",
    "helpdesk.auth_backend.AgentModelBackend",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
# HTTP requests one ASGI process (daphne) serves at once, each on a thread of its own that is kept
# for the next request (helpdesk/asgi_handler.py); the others wait for a thread. Below the pool's
# DB_POOL_MAX_SIZE, so that the process's websockets still get a connection.
ASGI_HTTP_THREADS = env.int("ASGI_HTTP_THREADS", 8, validate=validate.Range(min=1))

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

DATABASES = {"default": env.dj_db_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}")}
# On PostgreSQL every process keeps a pool (Django's OPTIONS["pool"]): a request borrows a connection
# and gives it back at its end, under gunicorn and daphne alike. Without a pool each thread that
# serves requests keeps its connection between them: a WSGI worker's, and the fixed set of threads
# the ASGI handler (helpdesk/asgi_handler.py) runs requests on.
_db_pool = env.bool("DB_POOL", True)
_db_pool_options = {
    "min_size": env.int("DB_POOL_MIN_SIZE", 1, validate=validate.Range(min=0)),
    "max_size": env.int("DB_POOL_MAX_SIZE", 10, validate=validate.Range(min=1)),
    "timeout": env.float("DB_POOL_TIMEOUT", 10.0, validate=validate.Range(min=0, min_inclusive=False)),
}
if _db_pool_options["min_size"] > _db_pool_options["max_size"]:
    raise ImproperlyConfigured(
        f"DB_POOL_MIN_SIZE ({_db_pool_options['min_size']}) is larger than DB_POOL_MAX_SIZE "
        f"({_db_pool_options['max_size']})."
    )
_db_conn_max_age = env.int("DB_CONN_MAX_AGE", None, validate=validate.Range(min=0))
if _db_pool and DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis")):
    if _db_conn_max_age:
        raise ImproperlyConfigured(
            "DB_CONN_MAX_AGE must be 0 or unset while DB_POOL is on (pooled connections go back to the "
            "pool after each request); set DB_POOL=false for persistent connections instead."
        )
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = _db_pool_options
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif _db_conn_max_age is not None:
    DATABASES["default"]["CONN_MAX_AGE"] = _db_conn_max_age
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
# A kept connection (or, with the pool, the one handed out) is checked before a request uses it, so
# one the database dropped meanwhile is replaced instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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

REDIS_URL = env.str("REDIS_URL", "")
# The asyncio Redis clients (channel layer, chat connection counts). No socket timeout: redis-py
# then sends through asyncio.wait_for, which on Python 3.11 swallows a cancellation that lands as
# the send completes, so a consumer leaving while its connection opens never finishes (a socket
# closed, its consumer left polling Redis); and redis-py's 5 s default read timeout drops a socket
# idle through one of channels_redis' 5 s blocking pops. TCP keepalive notices a peer gone away
# (a unix socket has none).
REDIS_ASYNC_OPTIONS = {"socket_timeout": None, **({} if REDIS_URL.startswith("unix:") else {"socket_keepalive": True})}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, **REDIS_ASYNC_OPTIONS}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Cached page fragments are keyed by versions read from the database, so a per-process cache is
# correct too; Redis lets the processes share them, and the sessions. Clearing a Redis cache
# empties its whole Redis database: REDIS_CACHE_URL can give it one apart from the channel layer's.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", REDIS_URL)
if REDIS_CACHE_URL:
    # Socket timeouts: a Redis that stops answering fails a page (and /readyz) instead of hanging it.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL,
                          "OPTIONS": {"socket_timeout": 3, "socket_connect_timeout": 3}}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "helpdesk.session_store"

# What closing a ticket, a chat or an outside interaction does besides marking it closed, and what
# recording an event does besides storing it: run in this order inside the same transaction
# (helpdesk/closing.py tells the whole close path).
CLOSE_HOOKS = [
    "helpdesk.chat.services.close_chat_with_its_ticket",
    "integrations.cobrowse.services.end_linked_sessions",
]
EVENT_HOOKS = ["helpdesk.webhooks.outgoing.deliver_event"]

# Co-browse ends and tags have a queue and a worker of their own, so a slow webhook receiver (on
# "default", with the chat tasks) never delays the end of a session.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "cobrowse"],
    }
}

# Task workers (`manage.py task_worker`) write a heartbeat this often; /readyz fails a queue whose
# workers have not written one for WORKER_HEARTBEAT_MAX_AGE, or whose oldest due task has waited
# longer than READYZ_TASK_MAX_AGE.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", 10, validate=validate.Range(min=0.1))
WORKER_HEARTBEAT_MAX_AGE = env.float("WORKER_HEARTBEAT_MAX_AGE", 30, validate=validate.Range(min=0.1))
if WORKER_HEARTBEAT_MAX_AGE <= WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("WORKER_HEARTBEAT_MAX_AGE must be longer than WORKER_HEARTBEAT_SECONDS.")
READYZ_TASK_MAX_AGE = env.float("READYZ_TASK_MAX_AGE", 120, validate=validate.Range(min=1))

# /metrics answers loopback, and other addresses only with "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters (or empty: loopback only).")

# `manage.py prune` deletes finished task results older than this.
TASK_RESULTS_KEEP_DAYS = env.int("TASK_RESULTS_KEEP_DAYS", 7, validate=validate.Range(min=0))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", 10, validate=validate.Range(min=8))}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ticket_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Filled at build time by `manage.py collectstatic` (make install, scripts/run.sh, scripts/test.sh):
# hashed, compressed copies plus staticfiles.json. A running server serves this directory only.
STATIC_ROOT = env.path("STATIC_ROOT", BASE_DIR / "staticfiles")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The official Cobrowse agent SDK, installed from npm (package.json). Only collectstatic reads
    # node_modules; a running server never does.
    ("vendor/cobrowse-agent-sdk", BASE_DIR / "node_modules" / "cobrowse-agent-sdk" / "dist" / "umd-browser"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

# --- Cobrowse -----------------------------------------------------------------------------------
# The local sandbox (sandbox/) is the development default only; the real service is configuration:
# COBROWSE_API=https://cobrowse.io, COBROWSE_LICENSE_KEY=..., COBROWSE_PRIVATE_KEY_FILE=...
COBROWSE_KEYS_DIR = env.path("COBROWSE_KEYS_DIR", VAR_DIR / "cobrowse")
COBROWSE_API = production_value("COBROWSE_API", "http://127.0.0.1:8001").rstrip("/")
# The API base URLs an admin may choose on the account settings page (https only when DEBUG is off).
COBROWSE_API_ALLOWED = [u.rstrip("/") for u in env.list("COBROWSE_API_ALLOWED", [COBROWSE_API])]
COBROWSE_LICENSE_KEY = env.str("COBROWSE_LICENSE_KEY", "")
COBROWSE_LICENSE_KEY_FILE = env.path("COBROWSE_LICENSE_KEY_FILE", COBROWSE_KEYS_DIR / "license_key.txt")
COBROWSE_PRIVATE_KEY_FILE = env.path("COBROWSE_PRIVATE_KEY_FILE", COBROWSE_KEYS_DIR / "agent_private_key.pem")
# How Cobrowse, links in custom_data and webhooks, and webhook senders reach this helpdesk; never
# taken from a request's Host.
HELPDESK_PUBLIC_URL = production_value("HELPDESK_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
COBROWSE_JWT_AUDIENCE = env.str("COBROWSE_JWT_AUDIENCE", "https://cobrowse.io")
COBROWSE_JWT_LIFETIME = env.int("COBROWSE_JWT_LIFETIME", 600)
COBROWSE_CONNECT_TIMEOUT = env.float("COBROWSE_CONNECT_TIMEOUT", 3)
COBROWSE_READ_TIMEOUT = env.float("COBROWSE_READ_TIMEOUT", 10)
# A team with no JWT policy is unrestricted; with this on (the default when DEBUG is off) its agents
# get no Cobrowse token until an admin gives the team a policy.
COBROWSE_DENY_UNRESTRICTED_TEAMS = env.bool("COBROWSE_DENY_UNRESTRICTED_TEAMS", not DEBUG)

# --- Secrets at rest ----------------------------------------------------------------------------
# Fernet keys (comma-separated, newest first) that encrypt stored signing keys and webhook secrets.
# Independent of SECRET_KEY; `manage.py rotate_encryption_keys` re-encrypts under the first key.
FIELD_ENCRYPTION_KEYS = production_value(
    "FIELD_ENCRYPTION_KEYS", ["fbm9S6MThk3ZbpB6Qy0nVrAyy9w7GsqSXEaG9rVvNXE="], parse=env.list
)
try:
    [Fernet(key) for key in FIELD_ENCRYPTION_KEYS]
except ValueError:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated."
    ) from None

# --- Outbound HTTP ------------------------------------------------------------------------------
# Outbound requests (Cobrowse, webhooks) never reach loopback, private, link-local or reserved
# addresses, except those listed here (IP addresses or networks, e.g. "127.0.0.1,10.1.2.0/24").
OUTBOUND_ALLOWED_NETWORKS = env.list("OUTBOUND_ALLOWED_NETWORKS", [])
for _network in OUTBOUND_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS: {_network!r} is not an IP address or network.") from None

# --- Live chat ----------------------------------------------------------------------------------
CHAT_GRACE_SECONDS = env.int("CHAT_GRACE_SECONDS", 120)  # customer gone this long: chat closes
# A widget sends a heartbeat every 30 s; a customer counted as connected with none for this long
# lost their connection without a goodbye (a killed process) and is marked gone by `chat_presence`.
CHAT_PRESENCE_TIMEOUT_SECONDS = env.int("CHAT_PRESENCE_TIMEOUT_SECONDS", 90)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", 4000)
CHAT_RATE_MESSAGES = env.int("CHAT_RATE_MESSAGES", 10)  # per connection, token bucket:
CHAT_RATE_PERIOD_SECONDS = env.float("CHAT_RATE_PERIOD_SECONDS", 10)  # ... refilled over this
CHAT_IDENTITY_MAX_LIFETIME = env.int("CHAT_IDENTITY_MAX_LIFETIME", 7 * 24 * 3600)
# A widget socket that sends no hello this long after it opened is closed (4408).
CHAT_HELLO_TIMEOUT_SECONDS = env.float("CHAT_HELLO_TIMEOUT_SECONDS", 10, validate=validate.Range(min=0, min_inclusive=False))
# Open widget sockets per signed identity (site and user_id) and per client address, counted in
# Redis across processes when REDIS_URL is set; 0 means no limit.
CHAT_MAX_CONNECTIONS_PER_IDENTITY = env.int("CHAT_MAX_CONNECTIONS_PER_IDENTITY", 5, validate=validate.Range(min=0))
CHAT_MAX_CONNECTIONS_PER_ADDRESS = env.int("CHAT_MAX_CONNECTIONS_PER_ADDRESS", 50, validate=validate.Range(min=0))
# The largest widget frame, in bytes: a message of CHAT_MAX_MESSAGE_CHARS with room for JSON
# escapes. `python -m helpdesk.ws_server` (daphne) refuses a larger frame or message with 1009
# while reading its header, before its payload is buffered.
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", CHAT_MAX_MESSAGE_CHARS * 8 + 2048, validate=validate.Range(min=1024))
# /demo/chat/: a customer page whose backend signs any identity. Its own switch, off by default.
CHAT_DEMO_PAGE = env.bool("CHAT_DEMO_PAGE", False)
CHAT_DEMO_SITE = env.str("CHAT_DEMO_SITE", "demo")
CHAT_DEMO_IDENTITY_LIFETIME = env.int("CHAT_DEMO_IDENTITY_LIFETIME", 3600)

# --- Webhooks -----------------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", 64 * 1024)
# Seconds between an outgoing delivery's attempts; after the last one it is marked failed.
WEBHOOK_RETRY_DELAYS = [float(s) for s in env.list("WEBHOOK_RETRY_DELAYS", ["10", "60", "300", "1800", "7200"])]
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", 10)

# --- Sign-in --------------------------------------------------------------------------------------
# django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one username, or from one address, that
# username or address is refused for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5, validate=validate.Range(min=1))
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", 15, validate=validate.Range(min=0, min_inclusive=False)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success resets only the signed-in username's count (helpdesk.views.sign_in): axes' own reset
# also clears every failure from the address, so one valid account would lift the limit on guessing others.
AXES_RESET_ON_SUCCESS = False
# "Sign-in paused" page (templates/registration/locked_out.html), answered with 429 Too Many Requests.
AXES_LOCKOUT_CALLABLE = "helpdesk.views.sign_in.locked_out"
AXES_USERNAME_CALLABLE = "helpdesk.views.sign_in.client_username"
AXES_HTTP_RESPONSE_CODE = 429
# Behind a proxy, the client address is the last one it adds to X-Forwarded-For.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", 0, validate=validate.Range(min=0)) or None
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# --- Transport security -------------------------------------------------------------------------
# Production defaults when DEBUG is off; each can be turned off explicitly (e.g. for a test server).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, validate=validate.Range(min=0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" (only if the proxy always sets it).
SECURE_PROXY_SSL_HEADER = tuple(part.strip() for part in env.list("SECURE_PROXY_SSL_HEADER", [])) or None
# Django compares the request.META name (HTTP_ + upper case, "_" for "-"): any other spelling never matches.
if SECURE_PROXY_SSL_HEADER and (len(SECURE_PROXY_SSL_HEADER) != 2 or not SECURE_PROXY_SSL_HEADER[1]
                                or not re.fullmatch(r"HTTP_[A-Z0-9_]+", SECURE_PROXY_SSL_HEADER[0])):
    raise ImproperlyConfigured('SECURE_PROXY_SSL_HEADER must be "HEADER,value", e.g. "HTTP_X_FORWARDED_PROTO,https".')
# Probes and scrapers speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _websocket_origin(origin):
    return origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


# Content-Security-Policy (django-csp): scripts, styles and everything else from this site only;
# frames and connections also to the Cobrowse origins an admin may choose (the agent SDK's REST
# calls and its websocket, {API}/sockets/1/ws, which http(s) sources do not cover).
_COBROWSE_ORIGINS = sorted({_origin(u) for u in COBROWSE_API_ALLOWED})
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "frame-src": ["'self'", *_COBROWSE_ORIGINS],
        "connect-src": ["'self'", *_COBROWSE_ORIGINS, *map(_websocket_origin, _COBROWSE_ORIGINS)],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# LOG_FORMAT=json: one JSON object per line (python-json-logger), with the request id.
LOG_FORMAT = env.str("LOG_FORMAT", "text", validate=validate.OneOf(["text", "json"]))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "helpdesk.request_ids.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
