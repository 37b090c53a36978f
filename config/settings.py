"""tickshop settings: every value comes from the environment (see .env.example).

Two run modes share this file (SPEC §2). Without DATABASE_URL the shop uses a
SQLite file under var/; without REDIS_URL it uses an in-memory channel layer,
local-memory cache and the in-process ticker ("embedded"). With both set it is
the "stack" mode: PostgreSQL, Redis as broker, channel layer and cache.
"""

import os
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
import orjson
from corsheaders.defaults import default_headers

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Embedded mode's SQLite file and collected static files live here.
VAR_DIR = env.path("VAR_DIR", default=BASE_DIR / "var")
Path(VAR_DIR, "static").mkdir(parents=True, exist_ok=True)


def _installation_secret_key(directory: Path) -> str:
    """A random key made on first start and kept in VAR_DIR (mode 0600).

    Never a key written in the source: a known key would let anyone sign JWTs
    and sessions. Processes of one machine share the file; the first to start
    creates it atomically (link fails if another won).
    """
    path = Path(directory, "secret_key")
    if not path.exists():
        draft = path.with_name(f".secret_key.{os.getpid()}")
        # Made with mode 0600: no moment in which another user could read it.
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


# --- Core -----------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
# Production sets SECRET_KEY (check --deploy warns otherwise); REQUIRE_SECRET_KEY refuses to start without it.
SECRET_KEY_FROM_ENV = bool(SECRET_KEY)
if not SECRET_KEY:
    if not DEBUG and env.bool("REQUIRE_SECRET_KEY", default=False):
        raise environ.ImproperlyConfigured("SECRET_KEY must be set")
    SECRET_KEY = _installation_secret_key(VAR_DIR)

HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://{HOST}:{PORT}").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", HOST])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "djoser",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served by the shop: no CDN
    "django_celery_beat",
    "channels",
    "corsheaders",
    "import_export",  # goods as CSV/XLSX in the admin
    "shop.core",
    "shop.accounts",
    "shop.currency",
    "shop.catalog",
    "shop.orders",
    "shop.realtime",
    "shop.storefront",
    "shop.webhooks",
    "shop.ops",  # start-up and wiring, above every other app
]

MIDDLEWARE = [
    "shop.core.middleware.MetricsMiddleware",  # outermost: its time covers the whole answer
    "shop.core.middleware.RequestIdMiddleware",
    "shop.core.middleware.HealthCheckMiddleware",  # before host and TLS checks: probes use 127.0.0.1
    "django.middleware.security.SecurityMiddleware",
    "shop.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "shop.core.middleware.IdPathMiddleware",  # ids in paths: 400 unless 1…2⁶³−1
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=Path(VAR_DIR, "static"))
WHITENOISE_USE_FINDERS = True

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{Path(VAR_DIR, 'tickshop.sqlite3')}"),
}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRES:
    # ASGI: a psycopg pool instead of persistent connections (Django docs).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django's backend with a pool that checks a connection before lending it, at the cost of a
    # poll of its socket: after a database restart no request gets a dead connection it still held.
    DATABASES["default"]["ENGINE"] = "shop.core.postgres"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

# --- Redis: broker, channel layer, cache (stack mode) -----------------------
REDIS_URL = env.str("REDIS_URL", default="")
RUN_MODE = "stack" if REDIS_URL else "embedded"
# uvicorn worker processes of `manage.py serve`; HTTP and WebSocket both scale with them. Stack
# mode defaults to one a core this process may run on; embedded mode to one (SQLite, in-process ticker).
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=len(os.sched_getaffinity(0)) if REDIS_URL else 1)
# Threads per web process that answer HTTP requests (Django's synchronous handling, see
# config/asgi.py); each holds at most one database connection (DB_POOL_MAX_SIZE) at a time.
WEB_THREADS = env.int("WEB_THREADS", default=8)
# Who ticks: "inprocess" (a task of the web server, embedded mode) or "celery" (beat + worker).
PRICE_TICKER = env.str("PRICE_TICKER", default="celery" if REDIS_URL else "inprocess")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one connection pool per process instead of one per request.
            "BACKEND": "shop.core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Redis pub/sub channels ignore the database number: the prefix keeps two
    # deployments (or test runs) on one Redis server from hearing each other.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str(
                    "CHANNELS_PREFIX", default=f"tickshop{urlsplit(REDIS_URL).path.strip('/') or 0}"
                ),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Goods import and export (django-import-export, shop.catalog.resources) ---------------
# Off: the resource escapes formula cells (= + - @, tab, CR) itself and reversibly; this option
# would only drop a leading "=" and turn every cell, numbers too, into text.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# --- Celery ----------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 50
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Webhook deliveries wait on other people's servers: they have a worker of their own
# (Procfile's "webhooks"), so a slow endpoint never holds up a tick.
CELERY_TASK_ROUTES = {"webhooks.*": {"queue": "webhooks"}}

# --- Shop ------------------------------------------------------------------
BASE_CURRENCY = env.str("BASE_CURRENCY", default="USD")
PRICE_TICK_SECONDS = env.int("PRICE_TICK_SECONDS", default=5)
# Database connections a tick writes its chunks on at once (PostgreSQL), each on a core of its own.
TICK_WRITERS = env.int("TICK_WRITERS", default=2)
FEED_HEARTBEAT_SECONDS = env.float("FEED_HEARTBEAT_SECONDS", default=15.0)
GENERATE_PRICES_INTERVAL_SECONDS = env.int("GENERATE_PRICES_INTERVAL_SECONDS", default=5)
ORDER_MARKUP_PERCENT = Decimal(env.str("ORDER_MARKUP_PERCENT", default="30"))
ORDER_FIXED_FEE = Decimal(env.str("ORDER_FIXED_FEE", default="10.10"))
RATES_PROVIDER = env.str("RATES_PROVIDER", default="manual")
RATES_REFRESH_SECONDS = env.int("RATES_REFRESH_SECONDS", default=3600)
ECB_RATES_URL = env.str(
    "ECB_RATES_URL", default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
)
PRICE_HISTORY_RAW_DAYS = env.int("PRICE_HISTORY_RAW_DAYS", default=0)  # 0: keep everything
ADMIN_EMAIL = env.str("ADMIN_EMAIL", default="")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default="")

# --- Webhooks (SPEC §12) -----------------------------------------------------
# Who sends: "celery" (the worker of the "webhooks" queue; stack mode), "thread" (embedded mode)
# or "off" (deliveries are recorded and wait).
WEBHOOK_DELIVERY = env.str("WEBHOOK_DELIVERY", default="celery" if REDIS_URL else "thread")
# Webhook URLs must be https and resolve to public addresses; these lift that (development, tests).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Retries: the first after about BASE seconds, each wait about FACTOR times the last (±20 %),
# for up to RETRY_FOR seconds after the event; then the delivery is marked failed.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5.0)
WEBHOOK_RETRY_FACTOR = env.float("WEBHOOK_RETRY_FACTOR", default=3.0)
WEBHOOK_RETRY_FOR_SECONDS = env.int("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 3600)
# How often the sweep looks for sales that started or ended and for deliveries left behind.
WEBHOOK_SWEEP_SECONDS = env.int("WEBHOOK_SWEEP_SECONDS", default=5)
# Delivered and failed events (with their delivery log) are kept this many days.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)
# Retries further off than this are left to the sweep instead of a delayed task.
WEBHOOK_KICK_MAX_DELAY_SECONDS = env.float("WEBHOOK_KICK_MAX_DELAY_SECONDS", default=600.0)

# --- Abuse limits -------------------------------------------------------------
# Account endpoints, per client address and per e-mail address: "N/period" (s, m, h, d; "10/15m"
# is 10 per 15 minutes); empty turns a limit off. Counted atomically in the cache (Redis in stack
# mode), answered 429 + Retry-After. Every password login (/auth/jwt/create/, /admin/login/,
# /api-auth/login/) counts against the LOGIN ones: all logins per client address, failed ones per
# (e-mail, client address), and failed ones per e-mail from all addresses, a much higher cap.
THROTTLE_LOGIN_PER_IP = env.str("THROTTLE_LOGIN_PER_IP", default="30/m")
THROTTLE_LOGIN_PER_IP_AND_EMAIL = env.str("THROTTLE_LOGIN_PER_IP_AND_EMAIL", default="10/15m")
THROTTLE_LOGIN_PER_EMAIL = env.str("THROTTLE_LOGIN_PER_EMAIL", default="100/h")
THROTTLE_REGISTER_PER_IP = env.str("THROTTLE_REGISTER_PER_IP", default="10/h")
THROTTLE_REGISTER_PER_EMAIL = env.str("THROTTLE_REGISTER_PER_EMAIL", default="5/h")
THROTTLE_PASSWORD_RESET_PER_IP = env.str("THROTTLE_PASSWORD_RESET_PER_IP", default="10/h")
THROTTLE_PASSWORD_RESET_PER_EMAIL = env.str("THROTTLE_PASSWORD_RESET_PER_EMAIL", default="5/h")
THROTTLE_ACTIVATION_RESEND_PER_IP = env.str("THROTTLE_ACTIVATION_RESEND_PER_IP", default="10/h")
THROTTLE_ACTIVATION_RESEND_PER_EMAIL = env.str("THROTTLE_ACTIVATION_RESEND_PER_EMAIL", default="5/h")
# Orders (direct and checkout together) per shopper.
THROTTLE_ORDERS_PER_USER = env.str("THROTTLE_ORDERS_PER_USER", default="30/m")
# The live feed (shop.realtime.limits): per message, per subscription, per connection, per address.
FEED_MAX_MESSAGE_BYTES = env.int("FEED_MAX_MESSAGE_BYTES", default=16 * 1024)
FEED_MAX_SUBSCRIPTION_GOODS = env.int("FEED_MAX_SUBSCRIPTION_GOODS", default=1000)
FEED_MAX_MESSAGES_PER_SECOND = env.int("FEED_MAX_MESSAGES_PER_SECOND", default=10)
# New feed connections per client address ("N/period", counted across processes); empty: off.
FEED_CONNECTS_PER_IP = env.str("FEED_CONNECTS_PER_IP", default="20/s")
FEED_MAX_CONNECTIONS_PER_IP = env.int(
    "FEED_MAX_CONNECTIONS_PER_IP", default=100
)  # per server process; 0: off
# A client that cannot keep up: at most this many messages wait for it, and a socket it
# does not read for this long is dropped.
FEED_SEND_QUEUE = env.int("FEED_SEND_QUEUE", default=64)
FEED_SEND_TIMEOUT_SECONDS = env.float("FEED_SEND_TIMEOUT_SECONDS", default=10.0)

# --- Operations: metrics and health (SPEC §11) ---------------------------------
# Every process of the deployment (web workers, Celery, beat) writes its metrics here; a scrape of
# /metrics sums them. Processes that share it must share this directory (one host, or a volume).
PROMETHEUS_MULTIPROC_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default="") or Path(VAR_DIR, "metrics"))
# GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; unset, /metrics is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# /healthz says "stalled" when a sale is running and no tick committed for this many intervals.
TICKS_STALLED_INTERVALS = env.int("TICKS_STALLED_INTERVALS", default=3)

# --- REST API --------------------------------------------------------------
# Rendered goods details kept per web process, keyed by the versions they show (shop.core.cache); 0: off.
READ_CACHE_ENTRIES = env.int("READ_CACHE_ENTRIES", default=2000)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shop.accounts.authentication.JWTAuthentication",  # SimpleJWT's, the user read in one plain query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["shop.core.permissions.StaffWriteOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "shop.core.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON only (SPEC §12): bodies nest (order items), which forms cannot carry, and the schema then
    # documents one content type, which generated clients need. The browsable API posts JSON
    # through its raw-data form.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # orjson: the same JSON as DRF's renderer, rendered several times faster.
    "DEFAULT_RENDERER_CLASSES": [
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_NON_STR_KEYS,),  # a list's errors are keyed by row index
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "shop.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "shop.core.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

_site = urlsplit(SITE_URL)
DJOSER = {
    "LOGIN_FIELD": "email",
    "USER_CREATE_PASSWORD_RETYPE": True,
    "SEND_ACTIVATION_EMAIL": True,
    "ACTIVATION_URL": "activate/{uid}/{token}",
    "PASSWORD_RESET_CONFIRM_URL": "password-reset/{uid}/{token}",
    "PASSWORD_RESET_SHOW_EMAIL_NOT_FOUND": False,
    "EMAIL_FRONTEND_PROTOCOL": _site.scheme,
    "EMAIL_FRONTEND_DOMAIN": _site.netloc + _site.path,  # links start with SITE_URL, path and all
    "EMAIL_FRONTEND_SITE_NAME": "tickshop",
    "HIDE_USERS": True,
    "TOKEN_MODEL": None,  # JWT only: DRF's authtoken is not installed (else DELETE /auth/users/me/ fails)
    # Every account e-mail goes out after commit, outside the request (shop.accounts.emails).
    "EMAIL": {
        "activation": "shop.accounts.emails.DeferredActivationEmail",
        "confirmation": "shop.accounts.emails.DeferredConfirmationEmail",
        "password_reset": "shop.accounts.emails.DeferredPasswordResetEmail",
        "password_changed_confirmation": "shop.accounts.emails.DeferredPasswordChangedEmail",
    },
    "SERIALIZERS": {
        "user": "shop.accounts.serializers.UserSerializer",
        "current_user": "shop.accounts.serializers.UserSerializer",
        "activation": "shop.accounts.serializers.ActivationSerializer",
        "password_reset_confirm": "shop.accounts.serializers.PasswordResetConfirmSerializer",
    },
    "PERMISSIONS": {
        "user_list": ["rest_framework.permissions.IsAdminUser"],
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "tickshop API",
    "DESCRIPTION": "A shop whose prices move: goods, sales, live prices, cart and orders.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # check --deploy must not need a database (the build has none); test_core validates the schema.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "ENUM_NAME_OVERRIDES": {"EventTypeEnum": "shop.webhooks.models.EVENT_CHOICES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.core.schema.document_error_responses",
        "shop.webhooks.schema.document_webhook_events",
    ],
}

# --- E-mail ----------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # django-environ drops the leading "/" of filemail:///abs/dir; SPEC §5 means that absolute path.
    _email["EMAIL_FILE_PATH"] = "/" + _email["EMAIL_FILE_PATH"].lstrip("/")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tickshop <noreply@tickshop.local>")
# Seconds an SMTP connection may block: a mail server that stops answering frees its sender.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Who sends account e-mails, after commit and never in the request: "celery" (a task for the worker,
# the stack default) or "thread" (a background thread of the web process, the embedded default).
EMAIL_DELIVERY = env.str("EMAIL_DELIVERY", default="") or ("celery" if REDIS_URL else "thread")
if EMAIL_DELIVERY not in ("celery", "thread"):
    raise environ.ImproperlyConfigured(f"EMAIL_DELIVERY must be celery or thread, not {EMAIL_DELIVERY!r}")

# --- Security --------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Behind TLS (README, "Production"): redirect HTTP to HTTPS, HSTS, cookies only over HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes speak plain HTTP inside the network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A TLS-terminating proxy at these addresses is trusted for X-Forwarded-Proto and -For (uvicorn).
FORWARDED_ALLOW_IPS = env.str("FORWARDED_ALLOW_IPS", default="127.0.0.1")
# Cross-origin browser access to the API (the storefront itself is same-origin and needs none).
CORS_ALLOWED_ORIGINS = [origin for origin in env.list("CORS_ALLOWED_ORIGINS", default=[]) if origin]
CORS_URLS_REGEX = r"^/(api|auth)/.*$"
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID", "Idempotent-Replayed"]
# Sent with every HTML page; empty turns it off. Scripts and styles come only from the shop itself;
# images may also be data: URIs (icons of the pages and of Swagger UI).
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'; img-src 'self' data:",
)
# Every request body (the API takes no uploads): larger ones get 413 before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- Logging ---------------------------------------------------------------
# Stack mode logs JSON lines (one object per record, with the request's id); embedded mode plain text.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("json" if REDIS_URL else "plain")
# One line per HTTP request (method, path, status, duration, request id) on the "shop.request" logger.
LOG_REQUESTS = env.bool("LOG_REQUESTS") if env.str("LOG_REQUESTS", default="") else bool(REDIS_URL)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shop.core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "shop.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"shop": {"level": LOG_LEVEL}, "celery": {"level": LOG_LEVEL}},
}
