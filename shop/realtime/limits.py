"""Limits of the live feed: what one WebSocket client may cost the server.

- ``LimitedWebsocketConsumer`` (the feed consumer's base class):
  * new connections per client address and second (FEED_CONNECTS_PER_IP, counted by
    the shop's one limiter, shop.core.throttling, so across every process): over it a
    client gets an ``error`` event (``rate_limited``) and close code 4429;
  * connections per client address (per server process): over the limit a
    client gets an ``error`` event and close code 4429;
  * the largest client message: an ``error`` event and close code 1009;
  * client messages per second: the extra ones are ignored, with one
    ``error`` event (``code: rate_limited``) per second; the connection stays;
  * a client that cannot keep up: outgoing messages wait in an outbox bounded in messages
    and bytes (shop.realtime.outbox), written by one task, so the consumer never blocks on a
    slow socket (and the channel layer's queue for it never grows). When the
    outbox is full the consumer leaves the feed and closes with 4408.

The server's own WebSocket protocol (``shop.ops.protocol``) drops peers that stop reading.

Goods per subscription are checked where subscriptions are read (the consumer).
"""

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from shop.core.errors import CoreErrorCode, RateLimited
from shop.core.metrics import (
    DROP_MESSAGE_TOO_BIG,
    DROP_SLOW_READER,
    DROP_TOO_MANY_CONNECTIONS,
    FEED_CONNECTIONS,
    FEED_DROPPED,
)
from shop.core.throttling import address_key, throttle_hit
from shop.realtime.errors import FeedErrorCode
from shop.realtime.outbox import Message, Outbox, Send
from shop.realtime.threads import feed_thread

logger = logging.getLogger(__name__)

CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_TOO_SLOW = 4408
CLOSE_TOO_MANY_CONNECTIONS = 4429

MESSAGE_TOO_BIG = "Messages are at most {limit} bytes."
TOO_MANY_MESSAGES = "At most {limit} messages a second; the extra ones are ignored."
TOO_MANY_CONNECTIONS = "Too many connections from your address (at most {limit})."
TOO_MANY_CONNECTS = "Too many new connections from your address; wait a moment and connect again."
TOO_MANY_GOODS = 'At most {limit} goods per subscription; subscribe to "all" instead.'

# Open feed connections per client address in this process (one event loop: no lock needed).
connections: Counter[str] = Counter()


def client_address(scope: dict[str, Any]) -> str:
    """The peer's address as limits count it (an IPv6 one by its /64); the ASGI server has
    applied trusted proxy headers already."""
    client = scope.get("client")
    return address_key(str(client[0]) if client else "")


def _event(code: str, detail: str) -> str:
    return json.dumps({"type": "error", "code": code, "detail": detail})


class LimitedWebsocketConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """An AsyncWebsocketConsumer that bounds what its client can cost (see the module)."""

    outbox: Outbox
    _window_start = 0.0
    _window_count = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        address = client_address(scope)
        try:  # new connections per address and second, counted across the deployment
            await feed_thread(throttle_hit)(
                scope="feed_connect:ip",
                ident=address,
                setting="FEED_CONNECTS_PER_IP",
                message=TOO_MANY_CONNECTS,
            )
        except RateLimited as limited:
            logger.warning("feed: %s refused, connecting too often", address)
            await self.refuse(receive, send, _event(CoreErrorCode.RATE_LIMITED, limited.message))
            return
        most = settings.FEED_MAX_CONNECTIONS_PER_IP
        if most and connections[address] >= most:
            logger.warning("feed: %s refused, %d connections open from there", address, connections[address])
            FEED_DROPPED.labels(DROP_TOO_MANY_CONNECTIONS).inc()
            await self.refuse(
                receive,
                send,
                _event(FeedErrorCode.TOO_MANY_CONNECTIONS, TOO_MANY_CONNECTIONS.format(limit=most)),
            )
            return
        connections[address] += 1
        FEED_CONNECTIONS.inc()
        self.outbox = outbox = Outbox(send, settings.FEED_SEND_QUEUE, settings.FEED_SEND_QUEUE_BYTES)
        consumer = asyncio.ensure_future(super().__call__(scope, receive, outbox.put))
        overflow = asyncio.ensure_future(outbox.overflowed.wait())
        try:
            await asyncio.wait({consumer, overflow}, return_when=asyncio.FIRST_COMPLETED)
            if consumer.done():
                consumer.result()  # re-raise what ended it, if anything did
            else:
                logger.warning(
                    "feed: %s cannot keep up (%d messages waiting); closing", address, outbox.limit
                )
                FEED_DROPPED.labels(DROP_SLOW_READER).inc()
                consumer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer
                await self.disconnect(CLOSE_TOO_SLOW)  # leave the feed, stop the heartbeat
                outbox.discard_pending()
                await outbox.put({"type": "websocket.close", "code": CLOSE_TOO_SLOW, "reason": "too slow"})
            await outbox.drain(settings.FEED_SEND_TIMEOUT_SECONDS)
        finally:
            overflow.cancel()
            outbox.stop()
            FEED_CONNECTIONS.dec()
            connections[address] -= 1
            if connections[address] <= 0:
                del connections[address]

    @staticmethod
    async def refuse(receive: Any, send: Send, event: str) -> None:
        """Complete the handshake only to say why, then close (a bare 403 would explain nothing)."""
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": event})
        await send({"type": "websocket.close", "code": CLOSE_TOO_MANY_CONNECTIONS})

    async def websocket_receive(self, message: Message) -> None:
        data = message.get("text")
        size = len(data.encode()) if data is not None else len(message.get("bytes") or b"")
        biggest = settings.FEED_MAX_MESSAGE_BYTES
        if size > biggest:
            FEED_DROPPED.labels(DROP_MESSAGE_TOO_BIG).inc()
            await self.send(
                text_data=_event(FeedErrorCode.MESSAGE_TOO_BIG, MESSAGE_TOO_BIG.format(limit=biggest))
            )
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        now = time.monotonic()
        if now - self._window_start >= 1.0:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        most = settings.FEED_MAX_MESSAGES_PER_SECOND
        if most and self._window_count > most:
            if self._window_count == most + 1:  # one error per second, not one per message
                await self.send(
                    text_data=_event(CoreErrorCode.RATE_LIMITED, TOO_MANY_MESSAGES.format(limit=most))
                )
            return
        await super().websocket_receive(message)
