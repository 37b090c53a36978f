"""Sync code that calls async clients many times, under one event loop."""

from collections.abc import Callable
from typing import TypeVar

from asgiref.sync import async_to_sync, sync_to_async

T = TypeVar("T")


def in_one_event_loop(work: Callable[[], T]) -> T:
    """Run ``work`` (sync code, in this thread) with one event loop under it.

    Outside an event loop each ``async_to_sync`` call starts a loop of its own, and an async
    client a new connection for it (the channel layer's Redis: about 15 ms a call, which a
    tick of many chunks pays once per chunk); under one loop every call shares it.
    """
    return async_to_sync(sync_to_async(work, thread_sensitive=True))()
