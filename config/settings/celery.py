"""Celery: the broker is Redis (stack mode); beat's schedules live in the database."""

from config.settings.base import REDIS_URL, TIME_ZONE

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
