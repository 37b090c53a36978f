"""Shared by the feed's load tests: a catalog with prices, a server on a private Redis that this
test process publishes to as well, and the server's memory."""

from decimal import Decimal
from pathlib import Path
from typing import Any

from pytest_django.fixtures import Settings

from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.tests.live import RedisProcess, service_env


def priced_goods(count: int) -> list[int]:
    """``count`` goods, each with a price; their ids."""
    goods = [g.id for g in Goods.objects.bulk_create([Goods(name=f"Goods {i}") for i in range(count)])]
    prices_record(amounts=dict.fromkeys(goods, Decimal("1.00")), source="manual")
    return goods


def private_feed_env(
    settings: Settings, redis: RedisProcess, prefix: str, **overrides: str
) -> dict[str, Any]:
    """The environment of a server whose feed runs on ``redis``; this process publishes there too."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [redis.url], "prefix": prefix},
        }
    }
    return service_env(
        REDIS_URL=redis.url, CHANNELS_PREFIX=prefix, PRICE_TICKER="off", LOG_FORMAT="plain", **overrides
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
