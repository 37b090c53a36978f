"""Redis stopped and started again under a running stack (a private redis-server)."""

import asyncio
import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import websockets
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.models import Tick
from shop.core.schedules import schedules_ensure
from shop.tests.factories import GoodsFactory, SaleFactory, UserFactory
from shop.tests.live import RedisProcess, asgi_server, call, celery, service_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


async def next_batch(url: str, timeout: float) -> dict[str, Any]:
    async with websockets.connect(url) as ws:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if message["type"] == "prices":
                return message


def test_stack_survives_a_redis_restart(usd: Any, tmp_path: Path, redis: RedisProcess) -> None:
    # given: a running stack (server, worker, beat) on a private Redis
    goods = GoodsFactory(price="1.00")
    sale = SaleFactory(goods=[goods])
    schedules_ensure()
    token = str(RefreshToken.for_user(UserFactory(is_staff=True)).access_token)
    env = service_env(REDIS_URL=redis.url, PRICE_TICK_SECONDS="2")
    with ExitStack() as stack:
        base = stack.enter_context(asgi_server(env, tmp_path / "server.log"))
        stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        stack.enter_context(celery("beat", env, tmp_path / "beat.log"))
        feed = base.replace("http://", "ws://") + "/ws/price_updates/"
        # (the first tick comes once the worker and beat have started: seconds on a loaded machine)
        assert asyncio.run(next_batch(feed, 90))["prices"][0]["goods"] == goods.id

        # when: Redis goes away
        redis.stop()
        # then: reads and orders go on, health says so, on-demand generation too, its interval
        # counted in the process (shop.core.throttling: the limiter's policy when Redis is down)
        assert call(f"{base}/api/goods/{goods.id}/")[0] == 200
        order = {"items": [{"goods": goods.id, "quantity": 2}]}
        status, placed = call(f"{base}/api/orders/", "POST", token, order)
        assert (status, placed["items"][0]["quantity"]) == (201, 2)
        status, health = call(f"{base}/healthz")
        assert (status, health["redis"], health["database"]) == (503, "down", "ok")
        assert call(f"{base}/api/sales/{sale.id}/generate-prices/", "PUT", token)[0] == 200
        status, body = call(f"{base}/api/sales/{sale.id}/generate-prices/", "PUT", token)
        assert (status, body["code"]) == (429, "rate_limited")
        time.sleep(3)
        ticks_during_outage = Tick.objects.count()

        # when: Redis is back, with nothing restarted
        redis.start()
        # then: health recovers, ticks resume and the feed delivers again
        wait_until(lambda: call(f"{base}/healthz")[0] == 200, timeout=30)
        # (the worker and beat reconnect with growing pauses, up to 30 s)
        wait_until(lambda: Tick.objects.count() >= ticks_during_outage + 2, timeout=90)
        # (a client reconnects as clients do; the server itself is never restarted)
        wait_until(
            lambda: asyncio.run(next_batch(feed, 15))["prices"][0]["goods"] == goods.id,
            timeout=60,
            interval=1,
        )
        assert call(f"{base}/api/sales/{sale.id}/generate-prices/", "PUT", token)[0] == 200
