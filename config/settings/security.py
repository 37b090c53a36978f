"""Security: the secret key, passwords, TLS, CORS, the content security policy, body sizes."""

import environ
from corsheaders.defaults import default_headers
from csp.constants import NONE, SELF

from config.secret_key import secret_key_of_installation
from config.settings.base import DEBUG, VAR_DIR, env

# --- The secret key ---------------------------------------------------------
# Production sets SECRET_KEY (check --deploy warns otherwise); REQUIRE_SECRET_KEY refuses to start without it.
# Unset, the installation's own key, VAR_DIR/secret_key (mode 0600), made by the first process that reads
# these settings and read by every later one: never a key written in the source, and never assigned later.
_secret_key_from_env = env.str("SECRET_KEY", default="")
SECRET_KEY_FROM_ENV = bool(_secret_key_from_env)
if not SECRET_KEY_FROM_ENV and not DEBUG and env.bool("REQUIRE_SECRET_KEY", default=False):
    raise environ.ImproperlyConfigured("SECRET_KEY must be set")
SECRET_KEY = _secret_key_from_env or secret_key_of_installation(VAR_DIR)


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
# django-csp's policy, sent with every HTML page (shop.core.middleware.ThirdPartyPagesCSPMiddleware).
# Scripts and styles come only from the shop itself; images may also be data: URIs (icons of the
# pages and of Swagger UI). The variable, if set, replaces it (``name value ...; name ...``, as the
# header reads); empty turns it off.
_csp_default: dict[str, list[str]] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "object-src": [NONE],
    "base-uri": [NONE],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
    "img-src": [SELF, "data:"],
}
_csp_from_env = env.str("CONTENT_SECURITY_POLICY") if "CONTENT_SECURITY_POLICY" in env.ENVIRON else None
_csp_directives = (
    _csp_default
    if _csp_from_env is None
    else {name: values for name, *values in (d.split() for d in _csp_from_env.split(";") if d.strip())}
)
CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp_directives} if _csp_directives else None
# Every request body (the API takes no uploads): larger ones get 413 before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
