"""The feed's own threads for its blocking calls (database, cache).

``database_sync_to_async`` runs every call on asgiref's one shared thread by default, the
thread that also serves the rest of the process's sync calls: a burst of whole-catalog
snapshots there would delay every other client's connect. The feed's calls run on a pool
of ``FEED_THREADS`` threads instead, each closing its database connections around a call
as Channels does.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.FEED_THREADS, thread_name_prefix="feed")


def feed_thread(func: Callable[P, R]) -> Any:
    """``func`` as an awaitable that runs on the feed's threads."""
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor())
