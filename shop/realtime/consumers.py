"""The live price feed ``/ws/price_updates/`` (SPEC §7). Consumers only relay."""

import asyncio
import contextlib
import time
from collections.abc import Collection
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from shop.catalog.selectors import price_current_list
from shop.core.errors import ShopError
from shop.currency.selectors import quote_get
from shop.domain.money import Quote
from shop.realtime.feed import batch_time, dumps, price_entries, render_batch
from shop.realtime.limits import LimitedWebsocketConsumer
from shop.realtime.publisher import FEED_GROUP, feed_seq_current
from shop.realtime.subscription import SUBSCRIBE, FeedRequest, FeedRequestError, Subscription

CLOSE_BAD_REQUEST = 4400


# Every connect and every subscribe "all" wants the whole snapshot, the same one until the next
# batch: it is read and rendered once per (seq, currency, rate) in each process. The age cap
# bounds how long a price whose batch was never published (Redis down) could stay out of it.
SNAPSHOT_MAX_AGE_SECONDS = 1.0
_snapshots: dict[tuple[int, str, Decimal], tuple[float, list[dict[str, Any]]]] = {}


def _snapshot(quote: Quote, goods_ids: Collection[int] | None) -> tuple[int, list[dict[str, Any]]]:
    seq = feed_seq_current()  # read before the prices: a batch after this is newer than the snapshot
    key = (seq, quote.currency, quote.rate)
    cached = _snapshots.get(key) if goods_ids is None else None
    if cached is not None and time.monotonic() - cached[0] < SNAPSHOT_MAX_AGE_SECONDS:
        return seq, cached[1]
    rows = price_current_list(goods_ids=goods_ids)
    prices = price_entries(((g, p, at.isoformat()) for g, p, at in rows), quote)
    if goods_ids is None:
        if len(_snapshots) > 16:  # older seqs are never asked for again
            _snapshots.clear()
        _snapshots[key] = (time.monotonic(), prices)
    return seq, prices


class PriceFeedConsumer(LimitedWebsocketConsumer):
    quote: Quote
    subscription = Subscription()  # every goods
    seq = 0
    last_sent = 0.0
    heartbeat: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode(), keep_blank_values=True)
        currency = next((value for value in query.get("currency", []) if value), None)  # blank: none
        try:
            self.quote = await database_sync_to_async(quote_get)(code=currency)
            self.subscription = Subscription.of_query(
                query.get("goods", []), limit=settings.FEED_MAX_SUBSCRIPTION_GOODS
            )
        except FeedRequestError as exc:
            await self.reject(exc.event)
            return
        except ShopError as exc:  # the currency's
            await self.reject({"type": "error", "detail": exc.message, "code": exc.code})
            return
        await self.join_feed()
        await self.accept()
        await self.send_snapshot(self.subscription.only, request_id=None)
        self.heartbeat = asyncio.create_task(self.beat())

    async def reject(self, event: dict[str, Any]) -> None:
        """Say why the connection cannot be served, then close it (accepted first: a browser
        sees no reason on a connection refused during the handshake)."""
        await self.accept()
        await self.send_event(event)
        await self.close(code=CLOSE_BAD_REQUEST)

    async def join_feed(self) -> None:
        # After a Redis restart the layer's first command finds its connection
        # dead and drops it; the second one reconnects.
        for attempt in range(5):
            try:
                await self.channel_layer.group_add(FEED_GROUP, self.channel_name)
                return
            except (ConnectionError, OSError, RedisError):
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5)

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        with contextlib.suppress(ConnectionError, OSError, RedisError):
            await self.channel_layer.group_discard(FEED_GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            request = FeedRequest.of_text(text_data, limit=settings.FEED_MAX_SUBSCRIPTION_GOODS)
            if request.goods is None:  # subscribe to "all"
                self.subscription = self.subscription.apply(request)
                await self.send_snapshot(None, request_id=request.id)
                return
            seq, priced = await database_sync_to_async(_snapshot)(self.quote, request.goods)
            self.subscription = self.subscription.apply(request, priced={entry["goods"] for entry in priced})
        except FeedRequestError as exc:
            await self.send_event(exc.event)
            return
        if request.action == SUBSCRIBE:
            await self.send_event(self.snapshot_event(seq, priced, request.id))
        else:
            await self.send_event({"type": "unsubscribed", "goods": sorted(request.goods), **request.echo})

    async def feed_prices(self, message: dict[str, Any]) -> None:
        """A committed batch from shop.realtime.publisher."""
        self.seq = max(self.seq, message["seq"])
        text = render_batch(message, self.quote, self.subscription.goods)
        await self.outbox.put({"type": "websocket.send", "text": text}, written_at=batch_time(message))
        self.last_sent = time.monotonic()

    async def beat(self) -> None:
        while True:
            wait = self.last_sent + settings.FEED_HEARTBEAT_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self.send_event({"type": "heartbeat", "seq": self.seq, "at": timezone.now().isoformat()})

    async def send_snapshot(self, goods: Collection[int] | None, *, request_id: Any) -> None:
        seq, prices = await database_sync_to_async(_snapshot)(self.quote, goods)
        await self.send_event(self.snapshot_event(seq, prices, request_id))

    def snapshot_event(self, seq: int, prices: list[dict[str, Any]], request_id: Any) -> dict[str, Any]:
        self.seq = max(self.seq, seq)
        event = {
            "type": "snapshot",
            "seq": self.seq,
            "at": timezone.now().isoformat(),
            "currency": self.quote.currency,
            "prices": prices,
        }
        return {**event, "id": request_id} if request_id is not None else event

    async def send_event(self, event: dict[str, Any]) -> None:
        await self.send(text_data=dumps(event))
        self.last_sent = time.monotonic()
