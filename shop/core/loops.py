"""Sync code under an event loop: many async calls under one loop; periodic upkeep in a web process."""

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from asgiref.sync import async_to_sync, sync_to_async

T = TypeVar("T")
logger = logging.getLogger(__name__)


def in_one_event_loop(work: Callable[[], T]) -> T:
    """Run ``work`` (sync code, in this thread) with one event loop under it.

    Outside an event loop each ``async_to_sync`` call starts a loop of its own, and an async
    client a new connection for it (the channel layer's Redis: about 15 ms a call, which a
    tick of many chunks pays once per chunk); under one loop every call shares it.
    """
    return async_to_sync(sync_to_async(work, thread_sensitive=True))()


async def run_every(seconds: float, work: Callable[[], object], *, what: str) -> None:
    """Run ``work`` (sync) every ``seconds`` until cancelled: embedded mode's periodic upkeep, a
    task of the web server's loop. A failure is logged; the next round tries again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await sync_to_async(work, thread_sensitive=True)()
        except Exception:
            logger.exception("%s failed; the next round will try again", what)
