"""Per-shopper notices through a real ASGI server (uvicorn subprocess), the Redis channel layer and
WebSocket clients (SPEC §15): a notice emitted in another process reaches exactly its shopper's
connections."""

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.services.prices import prices_record
from shop.core.events import ShopperEvent, ShopperNotice, event_emit
from shop.tests.factories import GoodsFactory, UserFactory
from shop.tests.live import asgi_server, next_of, run_async, service_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

record = database_sync_to_async(prices_record)
WAIT = 20.0  # seconds, a deadline for each message on a loaded machine


@pytest.fixture
def server(usd: Any, tmp_path: Path) -> Iterator[str]:
    with asgi_server(service_env(), tmp_path / "server.log") as base:
        yield base.replace("http://", "ws://") + "/ws/price_updates/"


async def received_until_batch(ws: Any) -> list[dict[str, Any]]:
    """The messages a connection received before the next price batch (snapshots, heartbeats and
    stock messages aside)."""
    received = []
    while (message := json.loads(await asyncio.wait_for(ws.recv(), WAIT)))["type"] != "prices":
        if message["type"] not in ("snapshot", "heartbeat", "stock"):
            received.append(message)
    return received


def test_a_notice_reaches_every_connection_of_its_shopper_and_no_other(server: str) -> None:
    # given: two shoppers and a priced goods (its batches fence what was sent before them)
    a, b = UserFactory(), UserFactory()
    goods = GoodsFactory(price="10.00")
    token_a, token_b = (str(RefreshToken.for_user(user).access_token) for user in (a, b))
    for_a = {"type": "alert", "alert": 12, "goods": goods.id, "currency": "EUR", "direction": "below",
             "price": "80.00", "value": "79.51", "price_id": 991, "triggered_at": "2025-01-02T03:04:05+00:00"}  # fmt: skip
    for_b = {"type": "standing_order.filled", "standing_order": 5, "order": 77, "goods": goods.id,
             "quantity": 2, "currency": "EUR", "limit_price": "80.00", "unit_price": "79.51",
             "order_sum": "159.02", "filled_at": "2025-01-02T03:04:05+00:00"}  # fmt: skip

    async def scenario() -> None:
        async with (
            websockets.connect(server) as a1,
            websockets.connect(server) as a2,
            websockets.connect(server) as b1,
            websockets.connect(server) as anonymous,
        ):
            for ws in (a1, a2, b1, anonymous):
                await asyncio.wait_for(next_of(ws, "snapshot"), WAIT)
            # A on two connections, B on one; the fourth stays anonymous
            for ws, token, user in ((a1, token_a, a), (a2, token_a, a), (b1, token_b, b)):
                await ws.send(json.dumps({"action": "auth", "token": token, "id": "me"}))
                assert await asyncio.wait_for(next_of(ws, "auth"), WAIT) == {
                    "type": "auth",
                    "user": user.pk,
                    "id": "me",
                }

            # when: this process (as a worker would, after commit) emits a notice for A, then one for B
            event_emit(kind=ShopperEvent.NOTICE, subject=ShopperNotice(user_id=a.pk, message=for_a))
            event_emit(kind=ShopperEvent.NOTICE, subject=ShopperNotice(user_id=b.pk, message=for_b))
            # then: A's connections get A's, B's gets B's ...
            for ws in (a1, a2):
                assert await asyncio.wait_for(next_of(ws, "alert"), WAIT) == for_a
            assert await asyncio.wait_for(next_of(b1, "standing_order.filled"), WAIT) == for_b
            # ... and nothing else: a price batch committed after both were delivered reaches every
            # connection after whatever they were sent, and none saw another notice before it
            await record(amounts={goods.id: Decimal("11.00")}, source="manual")
            assert await received_until_batch(a1) == []
            assert await received_until_batch(a2) == []
            assert await received_until_batch(b1) == []
            assert await received_until_batch(anonymous) == []

    run_async(scenario())
