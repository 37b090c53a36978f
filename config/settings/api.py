"""The REST API: DRF, JWTs, Djoser's account endpoints, the OpenAPI schema."""

from datetime import timedelta
from urllib.parse import urlsplit

import orjson

from config.settings.base import SITE_URL, env

# Rendered goods details kept per web process, keyed by the versions they show (shop.core.cache); 0: off.
READ_CACHE_ENTRIES = env.int("READ_CACHE_ENTRIES", default=2000)
# ... and the bytes of their bodies at most (a page of 500 goods is some 150 kB).
READ_CACHE_BYTES = env.int("READ_CACHE_BYTES", default=32 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shop.accounts.authentication.JWTAuthentication",  # SimpleJWT's, the user read in one plain query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["shop.core.permissions.StaffWriteOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "shop.core.pagination.LimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "shop.core.search.LimitedSearchFilter",  # DRF's, with the search's size bounded
        "shop.core.search.LimitedOrderingFilter",
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
        # The current password's check counts against the login limits (shop.accounts.throttles).
        "set_password": "shop.accounts.serializers.SetPasswordSerializer",
        "user_delete": "shop.accounts.serializers.UserDeleteSerializer",
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
    "ENUM_NAME_OVERRIDES": {
        "EventTypeEnum": "shop.webhooks.models.EVENT_CHOICES",
        "OrderStatusEnum": "shop.orders.models.Order.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.core.schema.document_error_responses",
        "shop.webhooks.schema.document_webhook_events",
    ],
}
