"""The Redis cache (stack mode) with one connection pool per process.

Django's cache handler keeps one cache object per async context, and under ASGI
every request is a context of its own. Django's ``RedisCache`` keeps its
connection pool on that object, so every request that touched the cache (an
order's throttle, a login's) opened a new TCP connection to Redis, and every
cache call built a new redis-py client, response callbacks and all. Here the
client behind the cache objects belongs to the process, one per configuration
(``LOCATION`` and ``OPTIONS``): redis-py's pools and clients are thread-safe,
and a pool resets itself in a forked child.
"""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[tuple[str, ...], str], "SharedRedisCacheClient"] = {}
_clients_lock = threading.Lock()
_UNCOUNT = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return false"


class SharedRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one redis-py client per pool instead of one per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own (private) pool selection: the primary for writes, any server for reads.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._redis_clients.get(index)
        if client is None:
            with self._lock:
                client = self._redis_clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
                    client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
                    self._redis_clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    _servers: list[str]  # set by Django's __init__ (LOCATION split on , and ;)
    _options: dict[str, Any]

    @cached_property
    def _cache(self) -> SharedRedisCacheClient:
        config = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(config)
            if client is None:
                client = _clients[config] = SharedRedisCacheClient(self._servers, **self._options)
        return client

    def count(self, key: str, *, timeout: int) -> tuple[int, float]:
        """Add one to the counter ``key``, made at 0 to live ``timeout`` seconds when missing;
        (the count, seconds until it expires).

        One round trip, atomic (MULTI: SET NX EX, INCR, PTTL): no other client sees the
        key between them, and it cannot expire between them either.
        """
        key = self.make_and_validate_key(key)
        pipe = self._cache.get_client(key, write=True).pipeline(transaction=True)
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
        self._cache.get_client(key, write=True).eval(_UNCOUNT, 1, key)
