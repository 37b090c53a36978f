"""Logging: JSON lines in stack mode (with the request's id), plain text in embedded mode."""

from config.settings.base import REDIS_URL, env

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
