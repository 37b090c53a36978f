"""The live price feed ``/ws/price_updates/`` (SPEC §7). Consumers only relay."""

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from cachetools import TTLCache
from channels.consumer import get_handler_name
from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError

from shop.accounts.selectors import user_id_of_access_token
from shop.catalog.selectors import price_current_list, stock_level_list
from shop.core.errors import ShopError
from shop.currency.selectors import quote_get
from shop.domain.money import Quote
from shop.realtime.errors import FeedErrorCode
from shop.realtime.feed import batch_time, dumps, price_entries, render_batch, render_stock
from shop.realtime.limits import LimitedWebsocketConsumer
from shop.realtime.notices import NOTICES_GROUP, feed_loop_set
from shop.realtime.publisher import FEED_GROUP, feed_seq_current, stock_seq_current
from shop.realtime.subscription import AUTH, SUBSCRIBE, FeedRequest, FeedRequestError, Subscription
from shop.realtime.threads import feed_thread

CLOSE_BAD_REQUEST = 4400

# One answer to every token that authenticates nobody (bad, expired, a refresh token, an inactive
# user, none): which of these it was is no business of whoever holds it.
AUTH_FAILED = "Not a valid access token of an active account; the connection is anonymous."


# Every connect and every subscribe "all" wants the whole snapshot, the same one until the next
# batch or stock change: it is read and rendered once per (seq, stock_seq, currency, rate) in each
# process and its bytes shared by every connection. The age cap bounds how long a price whose batch
# was never published (Redis down) could stay out of it.
SNAPSHOT_MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True)
class Snapshot:
    seq: int
    stock_seq: int
    currency: str
    at: str
    goods: frozenset[int]  # the goods in it
    prices: str  # its "prices" list, rendered

    @cached_property
    def text(self) -> str:
        """The ``snapshot`` event, rendered once: every connection sends this very string."""
        return self.render(seq=self.seq, stock_seq=self.stock_seq, echo={})

    def render(self, *, seq: int, stock_seq: int, echo: dict[str, Any]) -> str:
        head = {
            "type": "snapshot",
            "seq": seq,
            "stock_seq": stock_seq,
            "at": self.at,
            "currency": self.currency,
            **echo,
        }
        return f'{dumps(head)[:-1]},"prices":{self.prices}}}'


# (seq, stock_seq, currency, rate) -> snapshot; older seqs are never asked for again and expire.
_snapshots: "TTLCache[tuple[int, int, str, Decimal], Snapshot]" = TTLCache(
    maxsize=16, ttl=SNAPSHOT_MAX_AGE_SECONDS, timer=time.monotonic
)
# One thread reads and renders the whole snapshot, the others wait for it (and the feed's threads
# share the cache, which has no lock of its own).
_snapshot_lock = threading.Lock()


def _snapshot(quote: Quote, goods_ids: Collection[int] | None) -> Snapshot:
    if goods_ids is not None:
        return _snapshot_read(quote, goods_ids)
    with _snapshot_lock:
        # Read before the prices and levels: a batch or stock change after this is newer than the snapshot.
        seq, stock_seq = feed_seq_current(), stock_seq_current()
        key = (seq, stock_seq, quote.currency, quote.rate)
        snapshot = _snapshots.get(key)
        if snapshot is None:
            snapshot = _snapshots[key] = _snapshot_read(quote, None, seqs=(seq, stock_seq))
        return snapshot


def _snapshot_read(
    quote: Quote, goods_ids: Collection[int] | None, *, seqs: tuple[int, int] | None = None
) -> Snapshot:
    # Read before the prices and levels: a batch or stock change after this is newer than the snapshot.
    seq, stock_seq = seqs or (feed_seq_current(), stock_seq_current())
    rows = price_current_list(goods_ids=goods_ids)
    levels = stock_level_list(goods_ids=goods_ids)
    prices = price_entries(((g, p, at.isoformat()) for g, p, at in rows), quote)
    for entry in prices:  # SPEC §13: available (null: not tracked), and the level's row version
        level = levels.get(entry["goods"])
        entry["available"] = None if level is None else level[0]
        if level is not None:
            entry["version"] = level[1]
    return Snapshot(
        seq=seq,
        stock_seq=stock_seq,
        currency=quote.currency,
        at=timezone.now().isoformat(),
        goods=frozenset(g for g, _, _ in rows),
        prices=dumps(prices),
    )


class PriceFeedConsumer(LimitedWebsocketConsumer):
    quote: Quote
    subscription = Subscription()  # every goods
    seq = 0
    stock_seq = 0
    last_sent = 0.0
    last_snapshot = -math.inf
    heartbeat: asyncio.Task[None] | None = None
    pacer: asyncio.Task[None] | None = None  # answers the waiting requests when their turn comes
    waiting: tuple[FeedRequest, ...] = ()  # requests that wait for the pacer, in order
    shopper: int | None = None  # the user the connection authenticated as (SPEC §15); None: anonymous

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first closes stale database connections, a hop to asgiref's one
        # shared thread for every message (each batch, each client message): under a flood of
        # client messages that thread, and every consumer waiting on it, falls behind. This
        # consumer reads the database on the feed's threads only, which close their connections
        # around each call (shop.realtime.threads), so it hands the message on directly.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode(), keep_blank_values=True)
        currency = next((value for value in query.get("currency", []) if value), None)  # blank: none
        try:
            self.quote = await feed_thread(quote_get)(code=currency)
            self.subscription = Subscription.of_query(
                query.get("goods", []), limit=settings.FEED_MAX_SUBSCRIPTION_GOODS
            )
        except FeedRequestError as exc:
            await self.reject(exc.event)
            return
        except ShopError as exc:  # the currency's
            await self.reject({"type": "error", "detail": exc.message, "code": exc.code})
            return
        await self.group_join(FEED_GROUP)
        await self.accept()
        await self.send_snapshot(self.subscription.only, request_id=None)
        self.heartbeat = asyncio.create_task(self.beat())

    async def reject(self, event: dict[str, Any]) -> None:
        """Say why the connection cannot be served, then close it (accepted first: a browser
        sees no reason on a connection refused during the handshake)."""
        await self.accept()
        await self.send_event(event)
        await self.close(code=CLOSE_BAD_REQUEST)

    async def group_join(self, group: str) -> None:
        # After a Redis restart the layer's first command finds its connection
        # dead and drops it; the second one reconnects.
        for attempt in range(5):
            try:
                await self.channel_layer.group_add(group, self.channel_name)
                return
            except (ConnectionError, OSError, RedisError):
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5)

    async def disconnect(self, code: int) -> None:
        for task in (self.heartbeat, self.pacer):
            if task is not None:
                task.cancel()
        with contextlib.suppress(ConnectionError, OSError, RedisError):
            await self.channel_layer.group_discard(FEED_GROUP, self.channel_name)
        await self.shopper_leave()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            request = FeedRequest.of_text(text_data, limit=settings.FEED_MAX_SUBSCRIPTION_GOODS)
        except FeedRequestError as exc:
            await self.send_event(exc.event)
            return
        if request.action == AUTH:  # changes no subscription: answered at once, whatever waits
            await self.authenticate(request)
            return
        # At most one snapshot per interval: a subscribe that comes sooner waits its turn. It
        # supersedes the requests waiting before it (it sets the subscription anew, and only the
        # latest is answered); an unsubscribe waits behind it, so requests apply in order.
        if request.action == SUBSCRIBE:
            wait = self.last_snapshot + settings.FEED_SNAPSHOT_INTERVAL_SECONDS - time.monotonic()
            if wait > 0 or self.waiting:
                self.waiting = (request,)
                if self.pacer is None:
                    self.pacer = asyncio.create_task(self.answer_waiting(max(wait, 0.0)))
                return
        elif self.waiting:
            self.waiting = (*self.waiting, request)
            return
        await self.answer(request)

    async def authenticate(self, request: FeedRequest) -> None:
        """Be the token's user from now on (another one's notices are no longer relayed), or be
        anonymous again."""
        user_id = await feed_thread(user_id_of_access_token)(request.token) if request.token else None
        if user_id is None:
            await self.shopper_leave()
            await self.send_event(
                {"type": "error", "detail": AUTH_FAILED, "code": FeedErrorCode.AUTH_FAILED, **request.echo}
            )
            return
        if self.shopper is None:
            feed_loop_set(asyncio.get_running_loop())
            await self.group_join(NOTICES_GROUP)
        self.shopper = user_id
        await self.send_event({"type": "auth", "user": user_id, **request.echo})

    async def shopper_leave(self) -> None:
        shopper, self.shopper = self.shopper, None
        if shopper is not None:
            with contextlib.suppress(ConnectionError, OSError, RedisError):
                await self.channel_layer.group_discard(NOTICES_GROUP, self.channel_name)

    async def answer_waiting(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self.pacer = None
        waiting, self.waiting = self.waiting, ()
        for request in waiting:
            await self.answer(request)

    async def answer(self, request: FeedRequest) -> None:
        try:
            if request.goods is None:  # subscribe to "all"
                self.subscription = self.subscription.apply(request)
                await self.send_snapshot(None, request_id=request.id)
                return
            snapshot = await feed_thread(_snapshot)(self.quote, request.goods)
            self.subscription = self.subscription.apply(request, priced=snapshot.goods)
        except FeedRequestError as exc:
            await self.send_event(exc.event)
            return
        if request.action == SUBSCRIBE:
            await self.send_text(self.snapshot_text(snapshot, request.id))
        else:
            await self.send_event({"type": "unsubscribed", "goods": sorted(request.goods), **request.echo})

    async def feed_prices(self, message: dict[str, Any]) -> None:
        """A committed batch from shop.realtime.publisher."""
        self.seq = max(self.seq, message["seq"])
        text = render_batch(message, self.quote, self.subscription.goods)
        await self.outbox.put({"type": "websocket.send", "text": text}, written_at=batch_time(message))
        self.last_sent = time.monotonic()

    async def feed_stock(self, message: dict[str, Any]) -> None:
        """A committed stock change from shop.realtime.publisher."""
        self.stock_seq = max(self.stock_seq, message["stock_seq"])
        await self.send_text(render_stock(message, self.subscription.goods))

    async def shopper_notice(self, message: dict[str, Any]) -> None:
        """Notices from shop.realtime.notices, by shopper: those of the connection's shopper, as
        they are, in order; any other's are not relayed."""
        if self.shopper is not None:
            for text in message["notices"].get(str(self.shopper), ()):
                await self.send_text(text)

    async def beat(self) -> None:
        while True:
            wait = self.last_sent + settings.FEED_HEARTBEAT_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self.send_event(
                {
                    "type": "heartbeat",
                    "seq": self.seq,
                    "stock_seq": self.stock_seq,
                    "at": timezone.now().isoformat(),
                }
            )

    async def send_snapshot(self, goods: Collection[int] | None, *, request_id: Any) -> None:
        snapshot = await feed_thread(_snapshot)(self.quote, goods)
        await self.send_text(self.snapshot_text(snapshot, request_id))

    def snapshot_text(self, snapshot: Snapshot, request_id: Any) -> str:
        """The ``snapshot`` event; the very string every connection sends, unless it carries
        this connection's request id or a newer seq (or stock_seq) than the snapshot's."""
        self.last_snapshot = time.monotonic()
        if request_id is None and self.seq <= snapshot.seq and self.stock_seq <= snapshot.stock_seq:
            self.seq, self.stock_seq = snapshot.seq, snapshot.stock_seq
            return snapshot.text
        self.seq, self.stock_seq = max(self.seq, snapshot.seq), max(self.stock_seq, snapshot.stock_seq)
        echo = {} if request_id is None else {"id": request_id}
        return snapshot.render(seq=self.seq, stock_seq=self.stock_seq, echo=echo)

    async def send_event(self, event: dict[str, Any]) -> None:
        await self.send_text(dumps(event))

    async def send_text(self, text: str) -> None:
        await self.send(text_data=text)
        self.last_sent = time.monotonic()
