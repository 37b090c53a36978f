"""No read serves a price older than the last committed tick, cache or not (SPEC §7 ordering).

A real server with two web processes (each with its own representation cache,
warmed before every tick), ticks committed from this process, a feed client:
right after a tick commits, and as soon as the feed shows its batch, every
read of the goods detail has that tick's price.
"""

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async

from shop.catalog.models import Goods
from shop.catalog.services.ticks import tick_run
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory
from shop.tests.live import asgi_server, call, next_of, run_async, service_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TICKS = 8
READS = 6  # a new connection each: both web processes answer some


def test_reads_right_after_a_tick_have_its_price(usd: Any, tmp_path: Path) -> None:
    CurrencyFactory(code="EUR", rate="0.5")
    goods = [GoodsFactory(price="10.00") for _ in range(3)]
    SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("999.99"))
    target = goods[1].id
    env = service_env(WEB_CONCURRENCY="2", PRICE_TICKER="off")
    with asgi_server(env, tmp_path / "server.log") as base:
        detail = f"{base}/api/goods/{target}/"

        async def reads(url: str) -> set[str]:
            answers = await asyncio.gather(*(asyncio.to_thread(call, url) for _ in range(READS)))
            assert {status for status, _ in answers} == {200}
            return {body["price"] for _, body in answers}

        def current(goods_id: int) -> str:
            return str(Goods.objects.get(id=goods_id).price)

        async def scenario() -> None:
            async with websockets.connect(base.replace("http://", "ws://") + "/ws/price_updates/") as ws:
                await next_of(ws, "snapshot")
                for slot in range(1, TICKS + 1):
                    await reads(detail)  # both processes hold the current representation
                    await reads(detail + "?currency=EUR")
                    result = await database_sync_to_async(tick_run)(slot=slot)
                    assert result.status == "done"
                    committed = await database_sync_to_async(current)(target)
                    # right after the commit: every read has the new price
                    assert await reads(detail) == {committed}
                    # and what the feed announces, a read shows
                    batch = await next_of(ws, "prices")
                    announced = {p["goods"]: p["price"] for p in batch["prices"]}
                    assert announced[target] == committed
                    assert await reads(detail) == {committed}

        run_async(scenario())
