"""The ASGI lifespan: the background loops a web process runs beside its requests (SPEC §2).

In embedded mode these are the in-process ticker, the orders' sweep (unpaid orders
expire, cart holds lapse), the standing orders' expiry and, with thread delivery, the webhooks' sweep: tasks of the server's event loop, started at start-up and
cancelled at shutdown.
"""

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from django.conf import settings

from shop.catalog.ticker import run_ticker
from shop.orders.sweeper import run_sweeper as run_orders_sweeper
from shop.pricewatch.sweeper import run_sweeper as run_standing_sweeper
from shop.webhooks.sweeper import run_sweeper


def background_loops() -> list[Callable[[], Coroutine[Any, Any, None]]]:
    """What this deployment runs in its web processes (the stack runs both in Celery)."""
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = []
    if settings.PRICE_TICKER == "inprocess":  # no beat: its periodic work runs here
        loops.extend((run_ticker, run_orders_sweeper, run_standing_sweeper))
    # Embedded mode sends webhooks from threads of this process; its sweep runs here too.
    if settings.WEBHOOK_DELIVERY == "thread":
        loops.append(run_sweeper)
    return loops


async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI lifespan: start the background loops at start-up, cancel them at shutdown."""
    tasks: list[asyncio.Task[None]] = []
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            tasks.extend(asyncio.create_task(loop()) for loop in background_loops())
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await send({"type": "lifespan.shutdown.complete"})
            return
