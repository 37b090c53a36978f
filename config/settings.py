"""tickshop settings: every value comes from the environment (see .env.example).

Two run modes share this file (SPEC §2). Without DATABASE_URL the shop uses a
SQLite file under var/; without REDIS_URL it uses an in-memory channel layer,
local-memory cache and the in-process ticker ("embedded"). With both set it is
the "stack" mode: PostgreSQL, Redis as broker, channel layer and cache.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Embedded mode's SQLite file and collected static files live here.
VAR_DIR = env.path("VAR_DIR", default=BASE_DIR / "var")
Path(VAR_DIR, "static").mkdir(parents=True, exist_ok=True)

# --- Core -----------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and env.bool("REQUIRE_SECRET_KEY", default=False):
        raise environ.ImproperlyConfigured("SECRET_KEY must be set")
    # Development fallback only: production deployments set REQUIRE_SECRET_KEY.
    SECRET_KEY = "tickshop-insecure-development-key-change-me-0123456789"  # noqa: S105

HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
# uvicorn worker processes of `manage.py serve`; HTTP and WebSocket both scale with them.
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)
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
    "django_celery_beat",
    "channels",
    "shop.core",
    "shop.accounts",
    "shop.currency",
    "shop.catalog",
    "shop.orders",
    "shop.realtime",
    "shop.storefront",
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
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

# --- Redis: broker, channel layer, cache (stack mode) -----------------------
REDIS_URL = env.str("REDIS_URL", default="")
RUN_MODE = "stack" if REDIS_URL else "embedded"
# Who ticks: "inprocess" (a task of the web server, embedded mode) or "celery" (beat + worker).
PRICE_TICKER = env.str("PRICE_TICKER", default="celery" if REDIS_URL else "inprocess")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
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
                "prefix": env.str("CHANNELS_PREFIX", default=f"tickshop{urlsplit(REDIS_URL).path.strip('/') or 0}"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

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

# --- Shop ------------------------------------------------------------------
BASE_CURRENCY = env.str("BASE_CURRENCY", default="USD")
PRICE_TICK_SECONDS = env.int("PRICE_TICK_SECONDS", default=5)
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

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["shop.core.permissions.StaffWriteOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "shop.core.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
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
    "SERIALIZERS": {
        "user": "shop.accounts.serializers.UserSerializer",
        "current_user": "shop.accounts.serializers.UserSerializer",
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
}

# --- E-mail ----------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # django-environ drops the leading "/" of filemail:///abs/dir; SPEC §5 means that absolute path.
    _email["EMAIL_FILE_PATH"] = "/" + _email["EMAIL_FILE_PATH"].lstrip("/")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tickshop <noreply@tickshop.local>")

# --- Security --------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- Logging ---------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"shop": {"level": LOG_LEVEL}},
}
