"""Embedded mode's webhook sweep: a task of the web server's event loop, like its ticker."""

import logging

from django.conf import settings

from shop.core.loops import run_every
from shop.webhooks.services.delivery import deliveries_sweep
from shop.webhooks.services.events import sale_states_sync, webhook_batches_prune, webhook_log_prune

logger = logging.getLogger(__name__)


def sweep() -> None:
    sale_states_sync()
    deliveries_sweep()
    webhook_log_prune(days=settings.WEBHOOK_LOG_DAYS)
    webhook_batches_prune(seconds=settings.WEBHOOK_BATCH_LOG_SECONDS)


async def run_sweeper() -> None:
    await run_every(settings.WEBHOOK_SWEEP_SECONDS, sweep, what="webhooks: sweep")
