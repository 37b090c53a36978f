"""The Redis cache: one connection pool per process, whatever the number of requests."""

import threading
from typing import Any

from django.core.cache import cache, caches

from shop.core.redis_cache import RedisCache
from shop.core.throttling import throttle_hit


def test_cache_objects_of_every_context_share_one_client_and_pool() -> None:
    # given: the cache objects of 20 threads, each its own context (as each ASGI request is)
    objects: list[Any] = []

    def request() -> None:
        throttle_hit(scope="test", ident="x", setting="THROTTLE_ORDERS_PER_USER", message="m")
        objects.append(caches["default"])

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: 20 cache objects, one redis-py client, one pool, and no more connections than threads
    assert all(isinstance(c, RedisCache) for c in objects), {type(c) for c in objects}
    assert len({id(c) for c in objects}) == 20
    clients = {id(c._cache.get_client(write=True)) for c in objects}
    pools = {id(c._cache.get_client(write=True).connection_pool) for c in objects}
    assert len(clients) == len(pools) == 1
    assert objects[0]._cache.get_client(write=True).connection_pool._created_connections <= 20


def test_count_starts_a_counter_with_its_lifetime_in_one_step() -> None:
    # when
    counts = [cache.count("tickshop:test:counter", timeout=30) for _ in range(3)]
    # then: 1, 2, 3, each with the time left, readable and decrementable like any cache
    # counter, expiring in 30 s from the first
    assert [n for n, _ in counts] == [1, 2, 3]
    assert all(0 < left <= 30 for _, left in counts)
    assert cache.get("tickshop:test:counter") == 3
    assert cache.decr("tickshop:test:counter") == 2
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_and_validate_key("tickshop:test:counter")) <= 30


def test_uncount_takes_one_back_and_never_makes_a_counter() -> None:
    # given: a counter at 2, and none for another key
    cache.count("tickshop:test:uncount", timeout=30)
    cache.count("tickshop:test:uncount", timeout=30)
    # when
    cache.uncount("tickshop:test:uncount")
    cache.uncount("tickshop:test:gone")
    # then: one taken back, the lifetime kept; the missing counter stays missing
    client = cache._cache.get_client(write=True)
    assert cache.get("tickshop:test:uncount") == 1
    assert 0 < client.ttl(cache.make_and_validate_key("tickshop:test:uncount")) <= 30
    assert not client.exists(cache.make_and_validate_key("tickshop:test:gone"))
