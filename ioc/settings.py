"""Settings, read from the environment (see the configuration table in README.md)."""

import os
import secrets
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet as xl
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from redis.backoff import NoBackoff
from redis.retry import Retry

from ioc import embedded
from ioc.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = embedded.var_dir()

DEBUG = env_bool("DEBUG", False)
HTTPS = env_bool("IOC_HTTPS", False)


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    # No key configured: make one once and keep it under var/, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Servers: the configured ones, else the embedded ones under var/ ------------------------
DATABASE_URL = env_secret("DATABASE_URL") or embedded.postgres_url()
REDIS_URL = env_secret("REDIS_URL") or embedded.redis_url()


def _database(url: str) -> dict:
    # Connections close after each request by default: under ASGI every worker thread would otherwise keep
    # its own, and a burst exhausts PostgreSQL's max_connections (measured in bench/). Use a pooler to reuse.
    database = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
    database["CONN_HEALTH_CHECKS"] = True
    database.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return database


DATABASES = {"default": _database(DATABASE_URL)}
# A streaming replica of the primary for the screens' reads (ioc.dbrouters, docs/scaling.md). Tests
# read the test database through it (MIRROR): no second test database is made.
DATABASE_REPLICA_URL = env_secret("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL) | {"TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["ioc.dbrouters.ReplicaRouter"]


def _celery_broker(url: str) -> str:
    # Celery spells a unix-socket Redis as redis+socket://; redis-py and channels use unix://.
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ioc",
        "OPTIONS": {
            # A Redis outage must not turn reads or writes into 500s: the cache only speeds up.
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            # Fail fast rather than retry with backoff inside a request.
            "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
        },
    }
}
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# The pub/sub layer delivers every message to connected sockets (the list layer with its
# default capacity silently drops under a burst); a screen that was away heals from the
# snapshot API. Storms never reach the layer one message per event (see ioc.bus). Its connections
# heal by themselves after a Redis restart (ioc.live_layer, docs/decisions.md).
# Several Redis servers for the live layer (REDIS_CHANNEL_URLS, comma-separated): it spreads channels
# and groups over them by a consistent hash. Celery and the cache stay on REDIS_URL.
REDIS_CHANNEL_URLS = [url.strip() for url in env_secret("REDIS_CHANNEL_URLS").split(",") if url.strip()] or [REDIS_URL]
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "ioc.live_layer.HealingPubSubChannelLayer",
        "CONFIG": {"hosts": REDIS_CHANNEL_URLS, "prefix": env_str("IOC_CHANNEL_PREFIX", "ioc")},
    }
}

CELERY_BROKER_URL = _celery_broker(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("IOC_CELERY_QUEUE", "ioc")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Applications -------------------------------------------------------------------------
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "csp",
    "ioc",
    "reports",
    "traffic",
    "onestop",
    "indicators",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ioc.middleware.ClientAddressMiddleware",
    "csp.middleware.CSPMiddleware",
    "ioc.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ioc.middleware.LanguageMiddleware",
    "ioc.hostile.HostileInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A wall screen account reaches only the wall and what it reads; everything else is closed to it.
    "ioc.screens.ScreenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "ioc.audit.AuditMiddleware",
]

# The benchmark servers add the framework floor route (bench/urls.py); everything else is ioc.urls.
ROOT_URLCONF = env_str("IOC_ROOT_URLCONF", "ioc.urls")
ASGI_APPLICATION = "ioc.asgi.application"
WSGI_APPLICATION = "ioc.wsgi.application"
AUTH_USER_MODEL = "ioc.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# A wall screen's session (ioc.screens): this many days, renewed while the wall is in use. Others keep
# Django's session length.
IOC_SCREEN_SESSION_DAYS = env_int("IOC_SCREEN_SESSION_DAYS", 30, minimum=1)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("IOC_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("IOC_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The same client address as the API throttles and the logs (never a raw X-Forwarded-For).
AXES_CLIENT_IP_CALLABLE = "ioc.clientaddr.client_address"


def _address_list(name: str) -> list[str]:
    from ioc.clientaddr import parse_networks

    entries = env_list(name)
    try:
        parse_networks(entries)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: addresses or networks (CIDR) separated by commas, or *: {exc}") from None
    return entries


# Proxies whose X-Forwarded-For is believed (uvicorn gets the same list as --forwarded-allow-ips).
IOC_TRUSTED_PROXIES = _address_list("IOC_TRUSTED_PROXIES")
if "FORWARDED_ALLOW_IPS" in os.environ and env_list("FORWARDED_ALLOW_IPS") != IOC_TRUSTED_PROXIES:
    raise ImproperlyConfigured("FORWARDED_ALLOW_IPS must be unset or equal IOC_TRUSTED_PROXIES (given to uvicorn)")
# Callers from these addresses (monitoring) see /readyz in detail, as signed-in staff do.
IOC_INTERNAL_ADDRESSES = _address_list("IOC_INTERNAL_ADDRESSES")

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it before collectstatic runs
STATICFILES_DIRS = [BASE_DIR / "static", ("leaflet", xl.BASE_DIR)]  # Leaflet from the xstatic-leaflet package
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ioc.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["ioc.throttling.AnonRateThrottle", "ioc.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("IOC_THROTTLE_ANON", "60/min"),
        "user": env_str("IOC_THROTTLE_USER", "6000/min"),
        # Citizens' reports: per device (or signed-in caller), under a ceiling per address (docs/security.md).
        "report_submit": env_str("IOC_THROTTLE_REPORT_SUBMIT", "30/hour"),
        "report_submit_address": env_str("IOC_THROTTLE_REPORT_SUBMIT_ADDRESS", "600/hour"),
        "report_submit_no_device": env_str("IOC_THROTTLE_REPORT_SUBMIT_NO_DEVICE", "10/hour"),
    },
    "DEFAULT_FILTER_BACKENDS": ["ioc.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "ioc.api.pagination.CheckedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": [
        "ioc.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ioc.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IOC API",
    "DESCRIPTION": "Intelligent Operations Center: field reports, cameras, one-stop offices, indicators.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "ReportLevelEnum": "reports.models.Level",
        "DossierStatusEnum": "onestop.models.DossierStatus",
        "DossierChannelEnum": "onestop.models.Channel",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI assets come from a Python package: command centres often sit on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- IOC ------------------------------------------------------------------------------------
IOC_SUBSYSTEMS_DISABLED = env_list("IOC_SUBSYSTEMS_DISABLED")
IOC_DEMO_PASSWORD = env_secret("IOC_DEMO_PASSWORD", "ioc-demo-2026")
# Worker processes of the uvicorn that `make run` starts (measured in bench/, see docs/decisions.md).
IOC_WEB_WORKERS = env_int("IOC_WEB_WORKERS", min(os.cpu_count() or 1, 4), minimum=1)
# Working sessions of the offices (local time), for deadlines in working hours and days.
IOC_WORK_SESSIONS = env_str("IOC_WORK_SESSIONS", "07:30-11:30,13:30-17:00")


def _service_area() -> tuple[float, float, float, float]:
    raw = env_list("IOC_SERVICE_AREA", ["8.18", "102.14", "23.39", "109.47"])  # Vietnam's mainland and coast
    try:
        area = tuple(float(x) for x in raw)
    except ValueError:
        area = ()
    if len(area) != 4 or not (area[0] < area[2] and area[1] < area[3]):
        raise ImproperlyConfigured("IOC_SERVICE_AREA must be min_lat,min_lon,max_lat,max_lon")
    return area


IOC_SERVICE_AREA = _service_area()
# Field reports
IOC_REPORTS_DUE_SOON_SHARE = env_int("IOC_REPORTS_DUE_SOON_PERCENT", 75, minimum=1) / 100
IOC_REPORTS_URGENT_ASSIGN_MINUTES = env_int("IOC_REPORTS_URGENT_ASSIGN_MINUTES", 10, minimum=1)
IOC_REPORTS_REOPEN_DAYS = env_int("IOC_REPORTS_REOPEN_DAYS", 7, minimum=0)
IOC_REPORTS_DUPLICATE_RADIUS_M = env_int("IOC_REPORTS_DUPLICATE_RADIUS_M", 50, minimum=1)
IOC_REPORTS_DUPLICATE_DAYS = env_int("IOC_REPORTS_DUPLICATE_DAYS", 7, minimum=1)
# Where people reach this deployment, for links in e-mails (subscribed briefings).
IOC_PUBLIC_URL = env_str("IOC_PUBLIC_URL", "http://localhost:8000")
# Triage suggestions (docs/triage.md): shown from this confidence (%) of the category; a model is
# trained from this many triaged reports, on at most the newest so many.
IOC_TRIAGE_MIN_CONFIDENCE = env_int("IOC_TRIAGE_MIN_CONFIDENCE_PERCENT", 60, minimum=0, maximum=100) / 100
IOC_TRIAGE_MIN_REPORTS = env_int("IOC_TRIAGE_MIN_REPORTS", 200, minimum=10)
IOC_TRIAGE_MAX_REPORTS = env_int("IOC_TRIAGE_MAX_REPORTS", 50_000, minimum=100)
# A nearby open report is proposed as the duplicate from this combined score (%) of text and place.
IOC_TRIAGE_DUPLICATE_MIN_SCORE = env_int("IOC_TRIAGE_DUPLICATE_MIN_SCORE_PERCENT", 35, minimum=0, maximum=100) / 100
IOC_PHOTO_MAX_BYTES = env_int("IOC_PHOTO_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
IOC_PHOTO_MAX_PIXELS = env_int("IOC_PHOTO_MAX_PIXELS", 40_000_000, minimum=10_000)
IOC_PHOTO_MAX_SIDE = env_int("IOC_PHOTO_MAX_SIDE", 2560, minimum=320)
IOC_PHOTOS_PER_REPORT = env_int("IOC_PHOTOS_PER_REPORT", 5, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest body any request may announce; 0: all photos of one report plus its form fields (ioc.hostile).
IOC_MAX_REQUEST_BODY = env_int("IOC_MAX_REQUEST_BODY", 0, minimum=0)
# Exports of staff lists (docs/briefings.md): up to this many rows the file is the answer; above it a
# worker writes it (202 and a job to follow). Written files are kept this many days.
IOC_EXPORT_INLINE_ROWS = env_int("IOC_EXPORT_INLINE_ROWS", 5000, minimum=1)
IOC_EXPORT_KEEP_DAYS = env_int("IOC_EXPORT_KEEP_DAYS", 7, minimum=1)

# Cameras
# Seconds a subsystem's figures for one scope are kept for the screens' snapshots (dropped at once
# when a change to them is announced; 0 computes them for every snapshot). See ioc.selectors.
IOC_SNAPSHOT_FIGURES_SECONDS = env_int("IOC_SNAPSHOT_FIGURES_SECONDS", 2, minimum=0)
IOC_CAMERA_ALERT_SEVERITY = env_str("IOC_CAMERA_ALERT_SEVERITY", "warning")
IOC_CAMERA_OFFLINE_MINUTES = env_int("IOC_CAMERA_OFFLINE_MINUTES", 5, minimum=1)
IOC_CAMERA_BATCH_MAX = env_int("IOC_CAMERA_BATCH_MAX", 1000, minimum=1)
# Monthly partitions of the big time-series tables (docs/partitions.md): months created ahead, and
# months kept (0 keeps everything; older months are rolled up by day, then dropped).
IOC_PARTITION_MONTHS_AHEAD = env_int("IOC_PARTITION_MONTHS_AHEAD", 3, minimum=1)
IOC_CAMERA_EVENT_RETENTION_MONTHS = env_int("IOC_CAMERA_EVENT_RETENTION_MONTHS", 24, minimum=0)
IOC_OBSERVATION_RETENTION_MONTHS = env_int("IOC_OBSERVATION_RETENTION_MONTHS", 60, minimum=0)
MQTT_URL = env_str("MQTT_URL")
IOC_MQTT_GENERIC_TOPIC = env_str("IOC_MQTT_GENERIC_TOPIC", "ioc/cameras/events")
if IOC_CAMERA_ALERT_SEVERITY not in ("info", "warning", "critical"):
    raise ImproperlyConfigured("IOC_CAMERA_ALERT_SEVERITY must be info, warning or critical")

IOC_SMS_BACKEND = env_str("IOC_SMS_BACKEND", "ioc.notify.LogSmsBackend")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ioc@localhost")
IOC_MAP_CENTER = tuple(float(x) for x in env_list("IOC_MAP_CENTER", ["10.95", "107.05"]))
IOC_MAP_TILES_URL = env_str("IOC_MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")

# --- Production safety when DEBUG is off --------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the wall's and console's scripts read it for API calls
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("IOC_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("IOC_HSTS_SECONDS", 31536000, minimum=0)


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


# Content-Security-Policy (django-csp): scripts only from our own static files, never inline; style
# attributes are allowed (bars' widths), style elements are not. /api/docs/ adds what Swagger UI needs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *filter(None, [_origin(IOC_MAP_TILES_URL.replace("{s}", "*"))])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy: no camera or microphone (photos come through the file picker); position for the portal.
IOC_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self), payment=(), usb=()"

# --- Logs: one JSON object per line on stdout ---------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "filters": {"client_address": {"()": "ioc.middleware.ClientAddressLogFilter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["client_address"]}},
    "root": {"handlers": ["stdout"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        # WeasyPrint tells every layout step at INFO; a briefing is one line of our own.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
