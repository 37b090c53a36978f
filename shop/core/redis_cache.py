"""The Redis cache (stack mode): one connection pool and one redis-py client per process.

Django's cache handler keeps one cache object per async context, and under ASGI
every request is a context of its own. Django's ``RedisCache`` keeps its
connection pool on that object, so every request that touched the cache (an
order's throttle, a login's) opened a new TCP connection to Redis; and every
cache call builds a new redis-py client (``redis.Redis()``, its response
callbacks and all: about 90 µs here, more than half a round trip to Redis).

The pools are shared through Django's public ``pool_class`` option: Django asks
``pool_class.from_url`` for a pool, and ``SharedConnectionPool`` answers with the
one this process already made for that configuration (redis-py's pools are
thread-safe and reset themselves in a forked child). Reusing one client per pool
has no public option: it takes two of Django's private names, listed with the
reason and the tests that pin them in docs/architecture.md ("Where we lean on
private APIs").
"""

import threading
from functools import cached_property
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_pools: dict[tuple[str, str], "SharedConnectionPool"] = {}  # (URL, options) -> this process's pool
_pools_lock = threading.Lock()
_UNCOUNT = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return false"


class SharedConnectionPool(redis.ConnectionPool):
    """redis-py's pool, one per process and configuration (URL and options), with its client."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "SharedConnectionPool":
        config = (url, repr(sorted(kwargs.items())))
        with _pools_lock:
            pool = _pools.get(config)
            if pool is None:
                pool = _pools[config] = super().from_url(url, **kwargs)
        return pool

    @cached_property
    def client(self) -> redis.Redis:
        return redis.Redis(connection_pool=self)


class SharedRedisCacheClient(RedisCacheClient):
    """Django's client, answering with its pool's one redis-py client instead of a new one a call."""

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        # Private: Django's choice of server (the primary for writes, any for reads).
        pool: SharedConnectionPool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        return pool.client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {**params.get("OPTIONS", {}), "pool_class": SharedConnectionPool}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = SharedRedisCacheClient  # private: Django has no option naming its client class

    def _redis_for(self, key: str) -> redis.Redis:
        """The redis-py client for writing ``key`` (private: Django's ``_cache``, its client)."""
        client: redis.Redis = self._cache.get_client(key, write=True)  # type: ignore[attr-defined]
        return client

    def count(self, key: str, *, timeout: int) -> tuple[int, float]:
        """Add one to the counter ``key``, made at 0 to live ``timeout`` seconds when missing;
        (the count, seconds until it expires).

        One round trip, atomic (MULTI: SET NX EX, INCR, PTTL): no other client sees the
        key between them, and it cannot expire between them either.
        """
        key = self.make_and_validate_key(key)
        pipe = self._redis_for(key).pipeline(transaction=True)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        pipe.pttl(key)
        _, count, ttl_ms = pipe.execute()
        return int(count), ttl_ms / 1000

    def uncount(self, key: str) -> None:
        """Take one from the counter ``key`` if it still exists; one atomic round trip.

        Django's ``decr`` asks EXISTS, then DECRBY: a counter expiring in between would be
        made again at -1 and without a lifetime, and never end.
        """
        key = self.make_and_validate_key(key)
        self._redis_for(key).eval(_UNCOUNT, 1, key)
