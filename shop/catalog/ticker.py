"""The embedded mode's ticker: a task of the web server's event loop (SPEC §2).

It calls the same service as the Celery task, once per slot, at the slot's start.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

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


async def lifespan(
    scope: dict[str, Any],
    receive: Any,
    send: Any,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> None:
    """ASGI lifespan: start the in-process ticker when this deployment uses it, and the
    other ``background`` loops the composition (config.asgi) asks for."""
    tasks: list[asyncio.Task[None]] = []
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if settings.PRICE_TICKER == "inprocess":
                tasks.append(asyncio.create_task(run_ticker()))
            tasks.extend(asyncio.create_task(loop()) for loop in background)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await send({"type": "lifespan.shutdown.complete"})
            return
