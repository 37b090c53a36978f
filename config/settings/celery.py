"""Celery: the broker is Redis (stack mode); beat's schedules live in the database."""

from kombu import Queue

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
# Ticks never wait behind other work. Webhook deliveries wait on other people's servers: they have
# a worker of their own (Procfile's "webhooks"), so a slow endpoint never holds up a tick. The
# matching of price batches (SPEC §15) and e-mails come in bursts (a tick that crosses thousands of
# alerts): they have queues of their own too, served by Procfile's "matching" and "mail" workers
# while "worker" serves the default queue (-Q celery). The bulk e-mails of such a burst (a tick's
# alerts, a fill's orders) go out at EMAIL_PER_SECOND from "mail_bulk", served by "bulk_mail", so
# that an account e-mail never waits behind them. A worker started without -Q serves the default
# queue, "matching", "mail" and "mail_bulk" (one small worker, the tests), never "webhooks".
CELERY_TASK_QUEUES = (Queue("celery"), Queue("matching"), Queue("mail"), Queue("mail_bulk"))
CELERY_TASK_ROUTES = {
    "webhooks.*": {"queue": "webhooks"},
    "pricewatch.match": {"queue": "matching"},
    "accounts.account_email_send": {"queue": "mail"},
    "orders.order_email_send": {"queue": "mail"},
    "orders.order_emails_send": {"queue": "mail_bulk"},
    "pricewatch.alerts_email_send": {"queue": "mail_bulk"},
}
