"""What the shop is made of and where it runs: apps, middleware, the run mode, paths."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Embedded mode's SQLite file, collected static files (folders made at start-up: shop.ops.installation)
# and, unless SECRET_KEY is set, the installation's key (made at the first read: config.secret_key).
VAR_DIR = env.path("VAR_DIR", default=BASE_DIR / "var")

# Redis is what makes the shop a stack (SPEC §2): broker, channel layer and cache. Without it,
# embedded mode: in-memory channel layer, local-memory cache, the in-process ticker.
REDIS_URL = env.str("REDIS_URL", default="")
RUN_MODE = "stack" if REDIS_URL else "embedded"

# --- Core -----------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://{HOST}:{PORT}").rstrip("/")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", HOST])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    # Start-up and wiring, above every other app (none imports it). Listed first: its ready()
    # makes the installation's folders (VAR_DIR) before other apps' ready() use them.
    "shop.ops",
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
    "shop.pricewatch",
    "shop.realtime",
    "shop.storefront",
    "shop.webhooks",
]

MIDDLEWARE = [
    "shop.core.middleware.MetricsMiddleware",  # outermost: its time covers the whole answer
    "shop.core.middleware.RequestIdMiddleware",
    "shop.core.middleware.HealthCheckMiddleware",  # before host and TLS checks: probes use 127.0.0.1
    "django.middleware.security.SecurityMiddleware",
    "shop.core.middleware.ThirdPartyPagesCSPMiddleware",  # django-csp's, on HTML pages
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "shop.core.middleware.IdPathMiddleware",  # ids in paths: 400 unless 1…2⁶³−1
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shop.core.middleware.ShopErrorMiddleware",  # innermost: a plain view's ShopError as JSON
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


# --- Web processes ----------------------------------------------------------
# uvicorn worker processes of `manage.py serve`; HTTP and WebSocket both scale with them. Stack
# mode defaults to one a core this process may run on; embedded mode to one (SQLite, in-process ticker).
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=len(os.sched_getaffinity(0)) if REDIS_URL else 1)
# Threads per web process that answer HTTP requests (Django's synchronous handling, see
# config/asgi.py); each holds at most one database connection (DB_POOL_MAX_SIZE) at a time.
WEB_THREADS = env.int("WEB_THREADS", default=8)
# Requests that may wait for a free thread, per web process; past that they are answered 503 with
# Retry-After at once, and a request whose client left while it waited is dropped unrun. /healthz
# and /metrics have a thread of their own and never wait behind the others.
WEB_QUEUE = env.int("WEB_QUEUE", default=64)

# --- Goods import and export (django-import-export, shop.catalog.resources) ---------------
# Off: the resource escapes formula cells (= + - @, tab, CR) itself and reversibly; this option
# would only drop a leading "=" and turn every cell, numbers too, into text.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
