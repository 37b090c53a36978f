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
# One attempt (DNS, connect, send, the answer) ends after this many seconds of wall-clock time,
# whatever the receiver trickles: TIMEOUT above bounds each socket operation, this the whole.
# The attempt is logged as failed and retried with the backoff above.
WEBHOOK_ATTEMPT_SECONDS = env.float("WEBHOOK_ATTEMPT_SECONDS", default=10.0)
# An endpoint whose every attempt failed for this many seconds (since its last delivered one) is
# switched off (is_active false) with disabled_reason saying why; staff switch it on again.
# 0: never.
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
# At most this many prices.batch deliveries wait per endpoint; past it the oldest are marked
# "dropped" (never sent: the receiver sees a gap in seq) and counted in
# tickshop_webhook_batches_dropped_total. 0: no cap.
WEBHOOK_MAX_PENDING_BATCHES = env.int("WEBHOOK_MAX_PENDING_BATCHES", default=100)
# prices.batch events (a tick records one per 5,000 goods) are kept this many seconds once no
# delivery waits for them, with their delivery log; other events keep WEBHOOK_LOG_DAYS.
WEBHOOK_BATCH_LOG_SECONDS = env.int("WEBHOOK_BATCH_LOG_SECONDS", default=3600)
