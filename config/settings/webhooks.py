"""Webhooks (SPEC §12): who sends, where to, and how often to retry."""

from config.settings.base import REDIS_URL, env

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
