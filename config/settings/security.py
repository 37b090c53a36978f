"""Security: the secret key, passwords, TLS, CORS, the content security policy, body sizes."""

import environ
from corsheaders.defaults import default_headers

from config.settings.base import DEBUG, env

# --- The secret key ---------------------------------------------------------
# Production sets SECRET_KEY (check --deploy warns otherwise); REQUIRE_SECRET_KEY refuses to start without it.
# Unset, start-up (shop.ops.installation) puts the installation's own key here, read from VAR_DIR
# and made there on the first start: never a key written in the source.
SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_FROM_ENV = bool(SECRET_KEY)
if not SECRET_KEY and not DEBUG and env.bool("REQUIRE_SECRET_KEY", default=False):
    raise environ.ImproperlyConfigured("SECRET_KEY must be set")


# --- Passwords, TLS, CORS, CSP, bodies ---------------------------------------
# Every password login counts against the login limits in the backend itself (shop.accounts.backends).
AUTHENTICATION_BACKENDS = ["shop.accounts.backends.LoginLimitedBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Behind TLS (docs/operations.md, "Production"): redirect HTTP to HTTPS, HSTS, cookies only over HTTPS.
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
