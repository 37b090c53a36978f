"""The feed's limits through a real server: connections per address, message size and rate,
goods per subscription (shop.realtime.limits)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets

from shop.realtime.limits import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_TOO_MANY_CONNECTIONS,
    MESSAGE_TOO_BIG,
    TOO_MANY_CONNECTIONS,
    TOO_MANY_CONNECTS,
    TOO_MANY_GOODS,
    TOO_MANY_MESSAGES,
)
from shop.realtime.subscription import BAD_GOODS
from shop.tests.factories import GoodsFactory
from shop.tests.live import asgi_server, next_of, run_async, service_env, subscribe

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def feed(usd: Any, tmp_path: Path) -> Iterator[str]:
    """The feed's URL on a live server with small limits, for the tests to reach them."""
    env = service_env(
        FEED_MAX_CONNECTIONS_PER_IP="3",
        FEED_MAX_MESSAGE_BYTES="1024",
        FEED_MAX_MESSAGES_PER_SECOND="5",
        FEED_MAX_SUBSCRIPTION_GOODS="3",
    )
    with asgi_server(env, tmp_path / "server.log") as base:
        yield base.replace("http://", "ws://") + "/ws/price_updates/"


@asynccontextmanager
async def snapshot_read(url: str) -> AsyncIterator[Any]:
    """A feed connection whose first snapshot has been read."""
    async with websockets.connect(url) as ws:
        await next_of(ws, "snapshot")
        yield ws


async def close_code(ws: Any) -> int | None:
    """Read until the server closes; its close code."""
    try:
        while True:
            await ws.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def first_message_once_room(url: str, timeout: float = 20) -> Any:
    """The first message of a new connection; connecting again while it is refused for too many
    connections, for ``timeout`` seconds at most (then the refusal)."""
    deadline = time.monotonic() + timeout
    while True:
        async with websockets.connect(url) as ws:
            message = json.loads(await ws.recv())
        if message.get("code") != "too_many_connections" or time.monotonic() > deadline:
            return message
        await asyncio.sleep(0.2)


def test_connections_per_address_are_limited(feed: str) -> None:
    async def scenario() -> None:
        # given: three connections from this address, the most allowed
        open_ = [await websockets.connect(feed) for _ in range(3)]
        for ws in open_:
            await next_of(ws, "snapshot")
        # when: a fourth connects
        async with websockets.connect(feed) as fourth:
            # then: it is told why, and closed with 4429
            error = await next_of(fourth, "error")
            assert error == {
                "type": "error",
                "code": "too_many_connections",
                "detail": TOO_MANY_CONNECTIONS.format(limit=3),
            }
            assert await close_code(fourth) == CLOSE_TOO_MANY_CONNECTIONS
        # when: one of the three leaves, there is room again (once the server has seen it go:
        # its count drops after the closing handshake this side waits for, not before)
        await open_.pop().close()
        assert (await first_message_once_room(feed))["type"] == "snapshot"
        for ws in open_:
            await ws.close()

    run_async(scenario())


def test_an_oversized_message_closes_with_1009(feed: str) -> None:
    async def scenario() -> None:
        async with snapshot_read(feed) as ws:
            await subscribe(ws, [1] * 600)  # ~2 KB
            error = await next_of(ws, "error")
            assert (error["code"], error["detail"]) == ("message_too_big", MESSAGE_TOO_BIG.format(limit=1024))
            assert await close_code(ws) == CLOSE_MESSAGE_TOO_BIG
        async with snapshot_read(feed) as ws:  # far over the limit: cut by the protocol itself
            await ws.send("x" * 100_000)
            assert await close_code(ws) == CLOSE_MESSAGE_TOO_BIG

    run_async(scenario())


def test_messages_over_the_rate_are_ignored_with_one_error(feed: str) -> None:
    goods = GoodsFactory(price="1.00")

    async def scenario() -> None:
        async with snapshot_read(feed) as ws:
            # when: 20 messages at once, 5 a second allowed. The server takes them one after the
            # other, its second starting when it takes the first: messages it answers without the
            # database (a malformed subscription: an error with the message's id) all fall in that
            # second even on a loaded machine, where five snapshots to read might not.
            for i in range(20):
                await ws.send(json.dumps({"action": "subscribe", "goods": "some", "id": i}))
            answers = []
            try:
                while True:
                    answers.append(json.loads(await asyncio.wait_for(ws.recv(), 1.5)))
            except TimeoutError:
                pass
            # then: 5 answered, one error for the rest, and the connection stays open
            assert [a["id"] for a in answers if a.get("detail") == BAD_GOODS] == [0, 1, 2, 3, 4]
            limited = [a for a in answers if a.get("code") == "rate_limited"]
            assert limited == [
                {"type": "error", "code": "rate_limited", "detail": TOO_MANY_MESSAGES.format(limit=5)}
            ]
            await subscribe(ws, [goods.id], "later")
            assert (await next_of(ws, "snapshot"))["id"] == "later"

    run_async(scenario())


def test_goods_per_subscription_are_limited(feed: str) -> None:
    goods = [GoodsFactory(price="1.00").id for _ in range(4)]

    async def scenario() -> None:
        async with snapshot_read(feed) as ws:
            await subscribe(ws, goods, "many")
            error = await next_of(ws, "error")
            assert error == {
                "type": "error",
                "detail": TOO_MANY_GOODS.format(limit=3),
                "code": "too_many_goods",
                "id": "many",
            }
            await subscribe(ws, goods[:3], "three")
            snapshot = await next_of(ws, "snapshot")
            assert (snapshot["id"], len(snapshot["prices"])) == ("three", 3)

    run_async(scenario())


def test_ids_out_of_range_are_an_error_and_the_connection_stays(feed: str) -> None:
    # was: the query with 10**20 failed in the database and ended the connection's handler
    goods = GoodsFactory(price="1.00")

    async def scenario() -> None:
        async with snapshot_read(feed) as ws:
            for bad in ([10**20], [0], [-3], [True], ["1"], [2**63]):
                await subscribe(ws, bad, "x")
                error = await next_of(ws, "error")
                assert (error["detail"], error["id"]) == (BAD_GOODS, "x")
                await asyncio.sleep(0.2)  # under the message rate limit
            await subscribe(ws, [goods.id], "ok")
            snapshot = await next_of(ws, "snapshot")
            assert (snapshot["id"], [p["goods"] for p in snapshot["prices"]]) == ("ok", [goods.id])

    run_async(scenario())


def test_new_connections_per_address_are_limited(usd: Any, tmp_path: Path) -> None:
    env = service_env(FEED_CONNECTS_PER_IP="3/h")

    async def scenario(url: str) -> None:
        accepted = 0
        for _ in range(8):  # one at a time: the open-connections limit plays no part
            async with websockets.connect(url) as ws:
                message = json.loads(await ws.recv())
                if message["type"] == "error":
                    assert message == {"type": "error", "code": "rate_limited", "detail": TOO_MANY_CONNECTS}
                    assert await close_code(ws) == CLOSE_TOO_MANY_CONNECTIONS
                    break
                assert message["type"] == "snapshot"
                accepted += 1
        # three a window; six if the hour turned during the test
        assert accepted in (3, 6)

    with asgi_server(env, tmp_path / "server.log") as base:
        run_async(scenario(base.replace("http://", "ws://") + "/ws/price_updates/"))


def test_snapshots_are_paced_and_the_latest_subscribe_answers(feed: str) -> None:
    g1, g2, g3 = (GoodsFactory(price="1.00").id for _ in range(3))

    async def scenario() -> None:
        async with websockets.connect(feed) as ws:
            connected = await next_of(ws, "snapshot")
            started = time.monotonic()
            # when: three subscribes, then an unsubscribe, at once (within the snapshot interval)
            await subscribe(ws, [g1], "first")
            await subscribe(ws, "all", "second")
            await subscribe(ws, [g1, g2, g3], "third")
            await ws.send(json.dumps({"action": "unsubscribe", "goods": [g3], "id": "fourth"}))
            # then: only the latest subscribe is answered, a second after the connect's snapshot
            # at the earliest, and the unsubscribe that came after it applies after it
            snapshot = await next_of(ws, "snapshot")
            waited = time.monotonic() - started
            assert (snapshot["id"], [p["goods"] for p in snapshot["prices"]]) == ("third", [g1, g2, g3])
            assert snapshot["seq"] >= connected["seq"] and waited > 0.5
            assert (await next_of(ws, "unsubscribed")) == {
                "type": "unsubscribed",
                "goods": [g3],
                "id": "fourth",
            }
            # and nothing else was answered
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(next_of(ws, "snapshot"), 1.5)

    run_async(scenario())
