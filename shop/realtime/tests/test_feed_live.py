"""The feed through a real ASGI server (uvicorn subprocess), Redis and a WebSocket client."""

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from websockets.exceptions import InvalidStatus

from shop.catalog.models import Price
from shop.catalog.services.prices import prices_record
from shop.catalog.services.sales import sale_generate_prices
from shop.realtime.subscription import BAD_GOODS, BAD_GOODS_QUERY, MALFORMED, UNKNOWN_ACTION, UNKNOWN_GOODS
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory
from shop.tests.live import asgi_server, next_of, run_async, service_env

record = database_sync_to_async(prices_record)  # closes its connection after
generate = database_sync_to_async(sale_generate_prices)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(usd: Any, tmp_path: Path) -> Iterator[str]:
    CurrencyFactory(code="EUR", rate="0.5")
    CurrencyFactory(code="JPY", decimals=0, rate="100.125")
    with asgi_server(service_env(FEED_HEARTBEAT_SECONDS="1.5"), tmp_path / "server.log") as base:
        yield base.replace("http://", "ws://") + "/ws/price_updates/"


def test_snapshot_batches_subscribe_and_errors(server: str) -> None:
    g1, g2 = GoodsFactory(price="10.00"), GoodsFactory(price="20.00")
    GoodsFactory()  # no price: not in the snapshot

    async def scenario() -> None:
        async with websockets.connect(server + "?currency=EUR") as ws:
            # on connect: a snapshot of every goods with a price, converted
            snapshot = await next_of(ws, "snapshot")
            assert snapshot["currency"] == "EUR"
            assert [(p["goods"], p["price"]) for p in snapshot["prices"]] == [
                (g1.id, "5.00"),
                (g2.id, "10.00"),
            ]
            seq = snapshot["seq"]

            # a committed batch arrives once, with only the goods that changed
            await record(amounts={g1.id: Decimal("12.01")}, source="manual")
            batch = await next_of(ws, "prices")
            assert batch["seq"] == seq + 1
            assert [(p["goods"], p["price"]) for p in batch["prices"]] == [(g1.id, "6.01")]  # 6.005 half up
            assert batch["currency"] == "EUR"
            assert batch["at"] == batch["prices"][0]["at"]
            assert batch["source"] == "manual"  # where the batch's prices came from: tick, on_demand, manual

            # narrowing: answered by a snapshot of those goods, with the request id echoed
            await ws.send(json.dumps({"action": "subscribe", "goods": [g2.id], "id": "req-1"}))
            narrowed = await next_of(ws, "snapshot")
            assert narrowed["id"] == "req-1"
            assert [p["goods"] for p in narrowed["prices"]] == [g2.id]
            await record(amounts={g1.id: Decimal("1.00"), g2.id: Decimal("2.00")}, source="manual")
            batch = await next_of(ws, "prices")
            assert batch["seq"] == seq + 2
            assert [(p["goods"], p["price"]) for p in batch["prices"]] == [(g2.id, "1.00")]

            # bad messages get an error and the connection stays open
            await ws.send("{not json")
            assert (await next_of(ws, "error"))["detail"] == MALFORMED
            await ws.send(json.dumps({"action": "dance", "id": 5}))
            error = await next_of(ws, "error")
            assert (error["detail"], error["id"]) == (UNKNOWN_ACTION, 5)
            await ws.send(json.dumps({"action": "subscribe", "goods": [g1.id, 999999]}))
            error = await next_of(ws, "error")
            assert (error["detail"], error["goods"]) == (UNKNOWN_GOODS, [999999])
            await ws.send(json.dumps({"action": "subscribe", "goods": "some"}))
            assert (await next_of(ws, "error"))["detail"] == BAD_GOODS

            # widening again
            await ws.send(json.dumps({"action": "subscribe", "goods": "all", "id": 2}))
            wide = await next_of(ws, "snapshot")
            assert (wide["id"], len(wide["prices"])) == (2, 2)

            # quiet for the heartbeat interval: a heartbeat with the latest seq
            heartbeat = await next_of(ws, "heartbeat")
            assert heartbeat["seq"] == seq + 2

    run_async(scenario())


def test_currency_conversion_and_bad_currency(server: str) -> None:
    goods = GoodsFactory(price="10.00")

    async def scenario() -> None:
        async with websockets.connect(server + "?currency=JPY") as ws:
            snapshot = await next_of(ws, "snapshot")
            assert snapshot["prices"][0] == {**snapshot["prices"][0], "goods": goods.id, "price": "1001"}
        async with websockets.connect(server) as ws:
            assert (await next_of(ws, "snapshot"))["currency"] == "USD"
        async with websockets.connect(server + "?currency=XXX") as ws:
            error = await next_of(ws, "error")
            assert error["code"] == "unknown_currency"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400

    run_async(scenario())


def test_browser_origins_are_checked(server: str) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(server, origin="http://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(server, origin="http://127.0.0.1") as ws:  # type: ignore[arg-type]
            assert (await next_of(ws, "snapshot"))["type"] == "snapshot"

    run_async(scenario())


def test_connecting_narrowed_to_some_goods(server: str) -> None:
    # given: three priced goods and one without a price yet
    g1, g2, g3 = (GoodsFactory(price=amount) for amount in ("10.00", "20.00", "30.00"))
    unpriced = GoodsFactory()

    async def scenario() -> None:
        # when: a page connects for the goods it shows (one of them has no price yet)
        async with websockets.connect(f"{server}?currency=EUR&goods={g1.id},{g3.id},{unpriced.id}") as ws:
            # then: the snapshot holds only those with a price
            snapshot = await next_of(ws, "snapshot")
            assert [(p["goods"], p["price"]) for p in snapshot["prices"]] == [
                (g1.id, "5.00"),
                (g3.id, "15.00"),
            ]
            # batches carry only its goods, the first price of the unpriced one included
            await record(amounts={g2.id: Decimal("2.00"), unpriced.id: Decimal("4.00")}, source="manual")
            batch = await next_of(ws, "prices")
            assert (batch["seq"], [(p["goods"], p["price"]) for p in batch["prices"]]) == (
                snapshot["seq"] + 1,
                [(unpriced.id, "2.00")],
            )
            # a batch without its goods still arrives, so seq stays gapless
            await record(amounts={g2.id: Decimal("3.00")}, source="manual")
            assert (await next_of(ws, "prices"))["prices"] == []
            # and it can change its subscription like any client
            await ws.send(json.dumps({"action": "subscribe", "goods": [g2.id], "id": "page-2"}))
            assert [p["goods"] for p in (await next_of(ws, "snapshot"))["prices"]] == [g2.id]
        # an empty list: none of them (a page that shows no goods)
        async with websockets.connect(f"{server}?goods=") as ws:
            assert (await next_of(ws, "snapshot"))["prices"] == []
        # malformed: an error, and the connection is closed as a bad request
        for bad in ("1,x", "-1", "1;2", "9" * 20):
            async with websockets.connect(f"{server}?goods={bad}") as ws:
                error = await next_of(ws, "error")
                assert (error["detail"], error["code"]) == (BAD_GOODS_QUERY, "bad_goods")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400

    run_async(scenario())


def test_unsubscribing(server: str) -> None:
    # given: two priced goods
    g1, g2 = GoodsFactory(price="10.00"), GoodsFactory(price="20.00")

    async def scenario() -> None:
        async with websockets.connect(server) as ws:
            await next_of(ws, "snapshot")
            # when: a client that follows every goods unsubscribes from one
            await ws.send(json.dumps({"action": "unsubscribe", "goods": [g1.id], "id": "u"}))
            # then: it is told so, and batches leave that goods out
            assert await next_of(ws, "unsubscribed") == {"type": "unsubscribed", "goods": [g1.id], "id": "u"}
            await record(amounts={g1.id: Decimal("1.00"), g2.id: Decimal("2.00")}, source="manual")
            assert [p["goods"] for p in (await next_of(ws, "prices"))["prices"]] == [g2.id]
            # goods without a price cannot be named
            await ws.send(json.dumps({"action": "unsubscribe", "goods": [999999]}))
            assert (await next_of(ws, "error"))["goods"] == [999999]

    run_async(scenario())


def test_inactive_goods_never_reach_the_feed(server: str) -> None:
    # given: a hidden (inactive) goods beside a shown one, both in a running sale
    hidden = GoodsFactory(price="10.00", is_active=False)
    shown = GoodsFactory(price="20.00")
    sale = SaleFactory(goods=[hidden, shown], min_price=Decimal("30.00"), max_price=Decimal("40.00"))

    async def scenario() -> None:
        # an anonymous client asking for both by id, on connect
        async with websockets.connect(f"{server}?goods={hidden.id},{shown.id}") as ws:
            snapshot = await next_of(ws, "snapshot")
            assert [p["goods"] for p in snapshot["prices"]] == [shown.id]
            seq = snapshot["seq"]

            # when: staff give the hidden goods a manual price, alone and beside the shown one,
            # and the sale generates prices on demand
            await record(amounts={hidden.id: Decimal("11.00")}, source="manual")
            await record(amounts={hidden.id: Decimal("12.00"), shown.id: Decimal("21.00")}, source="manual")
            await generate(sale=sale)

            # then: the hidden goods' prices were written, but no batch names it: the lone one
            # sent nothing (the next batch follows the snapshot's seq), the others only the shown goods
            first, second = await next_of(ws, "prices"), await next_of(ws, "prices")
            assert (first["seq"], second["seq"]) == (seq + 1, seq + 2)
            assert [p["goods"] for p in first["prices"]] == [shown.id]
            assert [p["goods"] for p in second["prices"]] == [shown.id]

    run_async(scenario())
    assert Price.objects.filter(goods=hidden, amount__in=["11.00", "12.00"]).count() == 2
    assert not Price.objects.filter(goods=hidden, source="on_demand").exists()
