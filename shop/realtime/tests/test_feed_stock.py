"""Stock levels on the live feed (SPEC §7, §13): a real ASGI server, Redis and a WebSocket client."""

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async

from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.catalog.services.stock import goods_stock_add, goods_stock_set
from shop.catalog.stock_store import StockRow
from shop.realtime.publisher import newest_levels
from shop.tests.factories import GoodsFactory
from shop.tests.live import asgi_server, next_of, run_async, service_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

record = database_sync_to_async(prices_record)
stock_add = database_sync_to_async(goods_stock_add)
stock_set = database_sync_to_async(goods_stock_set)


@database_sync_to_async
def version_of(goods: Goods) -> int:
    return int(Goods.objects.values_list("version", flat=True).get(pk=goods.pk))


@pytest.fixture
def server(usd: Any, tmp_path: Path) -> Iterator[str]:
    with asgi_server(service_env(FEED_HEARTBEAT_SECONDS="1.5"), tmp_path / "server.log") as base:
        yield base.replace("http://", "ws://") + "/ws/price_updates/"


def test_stock_changes_reach_the_clients_that_follow_the_goods(server: str) -> None:
    # given: two tracked goods and an untracked one, all priced
    lamp = GoodsFactory(price="10.00", stock=5)
    chair = GoodsFactory(price="20.00", stock=3)
    pen = GoodsFactory(price="1.00")

    async def scenario() -> None:
        async with (
            websockets.connect(f"{server}?goods={lamp.id},{pen.id}") as narrow,
            websockets.connect(server) as everything,
        ):
            # the snapshot carries each goods' available (null: not tracked) and its level's version
            snapshot = await next_of(narrow, "snapshot")
            entries = {p["goods"]: p for p in snapshot["prices"]}
            assert set(entries) == {lamp.id, pen.id}
            assert (entries[lamp.id]["available"], entries[lamp.id]["version"]) == (5, await version_of(lamp))
            assert entries[pen.id]["available"] is None and "version" not in entries[pen.id]
            stock_seq = snapshot["stock_seq"]
            wide = await next_of(everything, "snapshot")
            assert {p["goods"]: p["available"] for p in wide["prices"]} == {
                lamp.id: 5,
                chair.id: 3,
                pen.id: None,
            }

            # when: a goods the narrow client does not follow sells one
            await stock_add(goods=chair, add=-1)
            # then: the narrow client gets the message without it (stock_seq stays gapless) ...
            message = await next_of(narrow, "stock")
            assert (message["stock_seq"], message["goods"]) == (stock_seq + 1, [])
            # ... and a client of every goods sees the new level
            message = await next_of(everything, "stock")
            assert message["stock_seq"] == stock_seq + 1
            assert message["goods"] == [
                {"goods": chair.id, "available": 2, "version": await version_of(chair)}
            ]

            # when: staff count the lamp down to 2
            await stock_set(goods=lamp, stock=2)
            message = await next_of(narrow, "stock")
            assert message["stock_seq"] == stock_seq + 2
            assert message["goods"] == [{"goods": lamp.id, "available": 2, "version": await version_of(lamp)}]

            # stock changes have a sequence of their own: the price batches' seq has no gap
            await record(amounts={lamp.id: Decimal("11.00")}, source="manual")
            batch = await next_of(narrow, "prices")
            assert batch["seq"] == snapshot["seq"] + 1

            # a new subscription's snapshot carries the levels as they are now
            await narrow.send(json.dumps({"action": "subscribe", "goods": [chair.id], "id": "s"}))
            again = await next_of(narrow, "snapshot")
            assert [(p["goods"], p["available"]) for p in again["prices"]] == [(chair.id, 2)]
            assert again["stock_seq"] == stock_seq + 2

            # and the heartbeat names the latest stock_seq, so a lost stock message shows
            heartbeat = await next_of(narrow, "heartbeat")
            assert (heartbeat["seq"], heartbeat["stock_seq"]) == (batch["seq"], stock_seq + 2)

    run_async(scenario())


def test_levels_of_inactive_goods_are_left_out(server: str) -> None:
    hidden = GoodsFactory(price="5.00", stock=4, is_active=False)

    async def scenario() -> None:
        async with websockets.connect(server) as ws:
            stock_seq = (await next_of(ws, "snapshot"))["stock_seq"]
            await stock_add(goods=hidden, add=-1)
            message = await next_of(ws, "stock")
            assert (message["stock_seq"], message["goods"]) == (stock_seq + 1, [])

    run_async(scenario())


def test_the_publisher_sends_the_newest_level_of_each_goods() -> None:
    rows = [StockRow(2, 5, 0, 7), StockRow(1, 3, 0, 4), StockRow(2, 4, 0, 8), StockRow(2, 6, 0, 6)]
    assert newest_levels(rows) == [StockRow(1, 3, 0, 4), StockRow(2, 4, 0, 8)]
