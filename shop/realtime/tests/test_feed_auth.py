"""Who a feed connection is (``{"action": "auth"}``, SPEC §15) and the notices it then receives:
the consumer in this process (an ASGI communicator), the real Redis channel layer."""

import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from shop.accounts.models import User
from shop.core.events import Each, ShopperEvent, ShopperNotice, event_emit
from shop.realtime.consumers import AUTH_FAILED, PriceFeedConsumer
from shop.realtime.limits import TOO_MANY_MESSAGES
from shop.realtime.notices import notice_listener
from shop.realtime.publisher import FEED_GROUP
from shop.tests.factories import UserFactory
from shop.tests.live import run_async, wait_until

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads on threads of its own

FEED = PriceFeedConsumer.as_asgi()
WAIT = 10.0  # seconds a message may take on a loaded machine; a deadline, not a pause
ALERT = {
    "type": "alert",
    "alert": 12,
    "goods": 3,
    "currency": "EUR",
    "direction": "below",
    "price": "80.00",
    "value": "79.51",
    "price_id": 991,
    "triggered_at": "2025-01-02T03:04:05+00:00",
}


def access(user: User) -> str:
    return str(AccessToken.for_user(user))


def notify(user: User, message: dict[str, Any]) -> None:
    """What pricewatch does after commit."""
    event_emit(kind=ShopperEvent.NOTICE, subject=ShopperNotice(user_id=user.pk, message=message))


@pytest.fixture
def users(usd: Any) -> tuple[User, User]:
    return UserFactory(), UserFactory()


class WebsocketCommunicator(ApplicationCommunicator):  # type: ignore[misc]
    """Channels' WebsocketCommunicator, the few calls used here: ``channels.testing`` cannot be
    imported without daphne, which the shop does not install (it serves with uvicorn)."""

    def __init__(self, query: str = "") -> None:
        scope = {
            "type": "websocket",
            "path": "/ws/price_updates/",
            "query_string": query.encode(),
            "headers": [],
            "subprotocols": [],
        }
        super().__init__(FEED, scope)

    async def connect(self, timeout: float) -> bool:
        await self.send_input({"type": "websocket.connect"})
        return bool((await self.receive_output(timeout))["type"] == "websocket.accept")

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_from(self, timeout: float) -> str:
        output = await self.receive_output(timeout)
        assert output["type"] == "websocket.send", output
        return str(output["text"])

    async def receive_json_from(self, timeout: float) -> Any:
        return json.loads(await self.receive_from(timeout))

    async def disconnect(self, timeout: float) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout)


@asynccontextmanager
async def connected(query: str = "") -> AsyncIterator[WebsocketCommunicator]:
    """A feed connection whose snapshot has been read."""
    ws = WebsocketCommunicator(query.removeprefix("?"))
    assert await ws.connect(timeout=WAIT)
    assert (await ws.receive_json_from(timeout=WAIT))["type"] == "snapshot"
    try:
        yield ws
    finally:
        await ws.disconnect(timeout=WAIT)


async def auth(ws: WebsocketCommunicator, token: Any = None, **extra: Any) -> dict[str, Any]:
    message = {"action": "auth", **extra}
    if token is not None:
        message["token"] = token
    await ws.send_json_to(message)
    answer: dict[str, Any] = await ws.receive_json_from(timeout=WAIT)
    return answer


async def fence() -> None:
    """A stock message to every feed connection of this process, after whatever the channel layer
    delivered to them before: what a connection receives before it, it was sent."""
    at = timezone.now().isoformat()
    await get_channel_layer().group_send(
        FEED_GROUP, {"type": "feed.stock", "stock_seq": 10**9, "at": at, "goods": []}
    )


async def until_fence(ws: WebsocketCommunicator) -> list[dict[str, Any]]:
    """What the connection received before the fence (heartbeats aside)."""
    received = []
    while (message := await ws.receive_json_from(timeout=WAIT))["type"] != "stock":
        if message["type"] != "heartbeat":
            received.append(message)
    return received


def test_an_authenticated_connection_receives_its_shoppers_notices(users: tuple[User, User]) -> None:
    shopper, _ = users

    async def scenario() -> None:
        async with connected() as ws:
            # when: the client authenticates with an access token
            assert await auth(ws, access(shopper), id="a-1") == {
                "type": "auth",
                "user": shopper.pk,
                "id": "a-1",
            }
            # then: a notice for its shopper reaches it as it was sent, whatever its shape
            notify(shopper, ALERT)
            assert json.loads(await ws.receive_from(timeout=WAIT)) == ALERT
            notify(shopper, {"type": "something.new", "nested": {"list": [1, "two", None]}})
            assert await ws.receive_json_from(timeout=WAIT) == {
                "type": "something.new",
                "nested": {"list": [1, "two", None]},
            }
            # authenticating again as the same shopper changes nothing (no id: none echoed)
            assert await auth(ws, access(shopper)) == {"type": "auth", "user": shopper.pk}
            notify(shopper, ALERT)
            assert await ws.receive_json_from(timeout=WAIT) == ALERT

    run_async(scenario())


def refresh(user: User) -> str:
    return str(RefreshToken.for_user(user))


def expired(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def inactive(user: User) -> str:
    return access(UserFactory(is_active=False))


def tampered(user: User) -> str:
    head, payload, signature = access(user).split(".")
    return f"{head}.{payload}.{signature[::-1]}"


@pytest.mark.parametrize(
    "token",
    [refresh, expired, inactive, tampered, "garbage", "", None, 42, ["a", "b"], {"token": "x"}],
    ids=["refresh", "expired", "inactive", "tampered", "garbage", "empty", "missing", "int", "list", "dict"],
)
def test_a_token_that_names_no_active_user_is_refused_and_the_connection_stays(
    users: tuple[User, User], token: Any
) -> None:
    shopper, _ = users
    token = token(shopper) if callable(token) else token

    async def scenario() -> None:
        async with connected() as ws:
            refused = await auth(ws, token, id=7)
            assert refused == {"type": "error", "detail": AUTH_FAILED, "code": "auth_failed", "id": 7}
            # the connection stays open, anonymous, and may try again
            assert (await auth(ws, access(shopper)))["user"] == shopper.pk

    run_async(scenario())


def test_authenticating_as_another_shopper_moves_the_connection(users: tuple[User, User]) -> None:
    first, second = users

    async def scenario() -> None:
        async with connected() as ws:
            assert (await auth(ws, access(first)))["user"] == first.pk
            # when: the same connection authenticates as someone else
            assert (await auth(ws, access(second), id=2)) == {"type": "auth", "user": second.pk, "id": 2}
            # then: the first one's notices no longer reach it: the second's, sent after, come first
            notify(first, {**ALERT, "alert": 1})
            notify(second, {**ALERT, "alert": 2})
            assert (await ws.receive_json_from(timeout=WAIT))["alert"] == 2

    run_async(scenario())


def test_a_failed_auth_makes_the_connection_anonymous_again(users: tuple[User, User]) -> None:
    shopper, _ = users

    async def scenario() -> None:
        async with connected() as ws, connected() as witness, connected(f"?token={access(shopper)}") as url:
            assert (await auth(ws, access(shopper)))["user"] == shopper.pk
            assert (await auth(witness, access(shopper)))["user"] == shopper.pk
            # when: the connection sends a token that names nobody
            assert (await auth(ws, "expired-or-worse"))["detail"] == AUTH_FAILED
            # then: its shopper's next notice reaches the witness only (a token in the address, too,
            # authenticates nobody)
            notify(shopper, ALERT)
            assert await witness.receive_json_from(timeout=WAIT) == ALERT
            await fence()
            assert await until_fence(ws) == []
            assert await until_fence(url) == []
            assert await until_fence(witness) == []

    run_async(scenario())


def test_a_burst_of_many_shoppers_notices_reaches_each_connection_as_its_own_shoppers_only(
    users: tuple[User, User],
) -> None:
    first, second = users
    mine = [{**ALERT, "alert": n} for n in (1, 2, 3)]
    theirs = {**ALERT, "alert": 4}

    async def scenario() -> None:
        async with connected() as ws:
            assert (await auth(ws, access(first)))["user"] == first.pk  # then it changes hands
            assert (await auth(ws, access(second)))["user"] == second.pk
            # when: one batch's notices, for both shoppers, interleaved, go out together
            notices = [ShopperNotice(second.pk, mine[0]), ShopperNotice(first.pk, theirs)]
            notices += [ShopperNotice(second.pk, message) for message in mine[1:]]
            event_emit(kind=ShopperEvent.NOTICE, subject=Each(tuple(notices)))
            # then: the connection relays its shopper's, in order, and not the first shopper's (they
            # travel as one group message: what was not received before the fence never comes)
            assert await ws.receive_json_from(timeout=WAIT) == mine[0]
            await fence()
            assert await until_fence(ws) == mine[1:]

    run_async(scenario())


def test_auth_messages_count_against_the_message_limit(users: tuple[User, User], settings: Settings) -> None:
    settings.FEED_MAX_MESSAGES_PER_SECOND = 2

    async def scenario() -> None:
        async with connected() as ws:
            for _ in range(3):
                await ws.send_json_to({"action": "auth"})  # no token: answered without a lookup
            answers = [await ws.receive_json_from(timeout=WAIT) for _ in range(3)]
            assert [a["detail"] for a in answers] == [
                AUTH_FAILED,
                AUTH_FAILED,
                TOO_MANY_MESSAGES.format(limit=2),
            ]

    run_async(scenario())


def test_notices_reach_connections_on_the_in_memory_layer_from_any_thread(
    users: tuple[User, User], settings: Settings
) -> None:
    # given: embedded mode's channel layer, which only the feed's own event loop may touch
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    shopper, _ = users

    async def scenario() -> None:
        async with connected() as ws:
            assert (await auth(ws, access(shopper)))["user"] == shopper.pk
            # when: a thread of the process (a request's, the matcher's) emits a notice after commit
            thread = threading.Thread(target=notify, args=(shopper, ALERT))
            thread.start()
            thread.join()
            # then: it is delivered (on the feed's loop)
            assert await ws.receive_json_from(timeout=WAIT) == ALERT

    run_async(scenario())


def test_the_listener_never_raises(users: tuple[User, User], settings: Settings, caplog: Any) -> None:
    shopper, _ = users
    caplog.set_level(logging.ERROR, logger="shop.realtime.notices")
    # a message that is not JSON: logged, the caller goes on
    notice_listener(ShopperEvent.NOTICE, ShopperNotice(user_id=shopper.pk, message={"price": Decimal(1)}))
    assert "not sent" in caplog.text
    # a channel layer that cannot be reached: logged by the publisher's thread, the caller goes on
    caplog.clear()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},  # the discard port: nothing listens
        }
    }
    notice_listener(ShopperEvent.NOTICE, ShopperNotice(user_id=shopper.pk, message=ALERT))
    wait_until(lambda: f"notices for users [{shopper.pk}] not sent" in caplog.text, timeout=WAIT)
