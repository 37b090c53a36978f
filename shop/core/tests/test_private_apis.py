"""The private names of Django that shop.core leans on (docs/architecture.md, "Where we lean on
private APIs"): one test a hook, failing with what to do when Django renames or reshapes it.
The behaviour they serve is tested beside: test_redis_cache.py, test_postgres_restart.py."""

import copy
import inspect
from typing import Any

import psycopg_pool
import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection
from django.db.backends.postgresql import base as django_postgres
from django.utils.functional import cached_property

from shop.core.postgres import base as our_postgres
from shop.core.redis_cache import RedisCache, SharedConnectionPool, SharedRedisCacheClient

UPSTREAM = "Django changed a private name shop.core leans on ({}); see docs/architecture.md, "
UPSTREAM += '"Where we lean on private APIs", for what it serves and the way out.'


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- shop/core/redis_cache.py ------------------------------------------------------------------


def test_djangos_redis_cache_builds_its_client_from_class_and_keeps_it_in_cache() -> None:
    django_cache = DjangoRedisCache("redis://127.0.0.1:6379/0", {})
    assert getattr(django_cache, "_class", None) is RedisCacheClient, UPSTREAM.format("RedisCache._class")
    assert isinstance(inspect.getattr_static(DjangoRedisCache, "_cache", None), cached_property), (
        UPSTREAM.format("RedisCache._cache")
    )
    # and ours is what Django's _cache builds
    ours = caches["default"]
    if not isinstance(ours, RedisCache):
        pytest.skip("the Redis cache is stack mode's")
    assert type(ours._cache) is SharedRedisCacheClient, UPSTREAM.format("RedisCache._cache from _class")


def test_djangos_redis_client_picks_its_pool_in_get_connection_pool() -> None:
    method = getattr(RedisCacheClient, "_get_connection_pool", None)
    assert method is not None, UPSTREAM.format("RedisCacheClient._get_connection_pool")
    assert parameters(method) == ["self", "write"], UPSTREAM.format(
        "RedisCacheClient._get_connection_pool(write)"
    )
    # and it builds the pool through the public pool_class option's from_url
    client = SharedRedisCacheClient(["redis://127.0.0.1:6379/0"], pool_class=SharedConnectionPool)
    assert isinstance(client._get_connection_pool(True), SharedConnectionPool), UPSTREAM.format(
        "RedisCacheClient: pool_class.from_url"
    )


# --- shop/core/postgres/base.py ----------------------------------------------------------------


class RecordedPool:
    """Stands for psycopg_pool.ConnectionPool: records how a backend builds its pool."""

    made: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.made.append(kwargs)

    check_connection = staticmethod(psycopg_pool.ConnectionPool.check_connection)


@pytest.fixture
def pool_settings() -> dict[str, Any]:
    settings = copy.deepcopy(connection.settings_dict)
    if settings["ENGINE"] != "shop.core.postgres":
        pytest.skip("the pool is PostgreSQL's")
    return settings


@pytest.fixture
def no_pools(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    pools: dict[str, Any] = {}
    monkeypatch.setattr(django_postgres.DatabaseWrapper, "_connection_pools", pools)
    return pools


def test_our_pool_is_built_as_djangos_but_for_its_check(
    pool_settings: dict[str, Any], no_pools: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: both backends on the same settings, psycopg's pool recorded instead of made
    monkeypatch.setattr(psycopg_pool, "ConnectionPool", RecordedPool)
    monkeypatch.setattr(our_postgres, "ConnectionPool", RecordedPool)
    monkeypatch.setattr(RecordedPool, "made", [])
    pool_settings["CONN_HEALTH_CHECKS"] = True
    # when
    django_postgres.DatabaseWrapper(pool_settings, alias="django").pool  # noqa: B018 - builds it
    our_postgres.DatabaseWrapper(pool_settings, alias="ours").pool  # noqa: B018
    # then: the same arguments (Django's private _configure_connection as configure), but the check
    django_made, ours_made = RecordedPool.made
    assert set(ours_made) == set(django_made), UPSTREAM.format(
        f"DatabaseWrapper.pool passes {set(django_made)}"
    )
    for name in set(django_made) - {"check", "configure"}:
        assert ours_made[name] == django_made[name], UPSTREAM.format(f"DatabaseWrapper.pool's {name}")
    assert ours_made["configure"].__func__ is django_made["configure"].__func__
    assert django_made["configure"].__name__ == "_configure_connection", UPSTREAM.format("configure=")
    assert ours_made["check"] is our_postgres.pool_check
    # and both keep their pool where Django's close_pool looks for it
    assert set(no_pools) == {"django", "ours"}, UPSTREAM.format("DatabaseWrapper._connection_pools")


def test_djangos_private_pool_names_keep_their_shape() -> None:
    pools = django_postgres.DatabaseWrapper.__dict__.get("_connection_pools")
    assert isinstance(pools, dict), UPSTREAM.format("DatabaseWrapper._connection_pools")
    configure = getattr(django_postgres.DatabaseWrapper, "_configure_connection", None)
    assert configure is not None, UPSTREAM.format("DatabaseWrapper._configure_connection")
    assert parameters(configure) == ["self", "connection"], UPSTREAM.format(
        "_configure_connection(connection)"
    )


def test_django_still_refuses_a_check_in_the_pool_options(
    pool_settings: dict[str, Any], no_pools: dict[str, Any]
) -> None:
    # given: Django's own backend, told our check in OPTIONS["pool"]
    pool_settings["OPTIONS"] = {**pool_settings["OPTIONS"], "pool": {"check": our_postgres.pool_check}}
    wrapper = django_postgres.DatabaseWrapper(pool_settings, alias="check")
    # when / then: Django 5.2 passes check itself; once it takes ours (ticket #37075), the
    # subclass can go
    try:
        pool = wrapper.pool
    except TypeError as error:
        assert "check" in str(error)  # noqa: PT017 - the one refusal this test expects
        return
    pool.close()
    pytest.fail(
        "Django now takes OPTIONS['pool']['check']: set it to shop.core.postgres.base.pool_check in "
        "config/settings/database.py, keep Django's ENGINE, and delete shop/core/postgres's DatabaseWrapper"
    )
