"""The embedded mode's ticker: a task of the web server's event loop (SPEC §2).

It calls the same service as the Celery task, once per slot, at the slot's start;
the ASGI lifespan (shop.ops.lifespan) starts it.
"""

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.conf import settings

from shop.catalog.services.ticks import tick_run

logger = logging.getLogger(__name__)


async def run_ticker() -> None:
    interval = settings.PRICE_TICK_SECONDS
    logger.info("in-process ticker: a tick every %s s", interval)
    while True:
        await asyncio.sleep(interval - time.time() % interval)
        try:
            await sync_to_async(tick_run, thread_sensitive=True)()
        except Exception:
            logger.exception("tick failed; the next slot will try again")
