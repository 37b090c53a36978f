"""Broadcast committed price batches and stock levels to the live feed (SPEC §7, §13).

Called from ``transaction.on_commit`` by the one service that writes prices,
so a batch is published once, after its commit, as one group message
(one Redis PUBLISH in stack mode) whatever the number of goods in it. Stock
levels go after each committed stock change (StockEvent.CHANGED), from a thread
of their own (``StockPublisher``: an order does not wait for the feed), numbered
by a sequence of their own (``stock_seq``): a client that follows only prices
then sees no gap in ``seq`` when stock moves.
"""

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from shop.catalog.selectors import goods_active_ids
from shop.catalog.stock_store import StockRow
from shop.core.events import EventType, PriceEvent, StockEvent, event_emit
from shop.currency.selectors import currency_list
from shop.domain.price_batch import PriceBatch, PublishedBatch
from shop.domain.stock import stock_available

logger = logging.getLogger(__name__)

FEED_GROUP = "price_updates"
SEQ_KEY = "tickshop:feed:seq"
STOCK_SEQ_KEY = "tickshop:feed:stock_seq"
STOCK_PUBLISH_INTERVAL_SECONDS = 0.1  # how late a stock level may reach the feed, at most


def feed_seq_next(key: str = SEQ_KEY) -> int:
    """The next batch number (of prices, or of stock levels with STOCK_SEQ_KEY), shared by every
    process of the deployment."""
    cache.add(key, 0, timeout=None)
    return int(cache.incr(key))


def feed_seq_current(key: str = SEQ_KEY) -> int:
    return int(cache.get(key) or 0)


def stock_seq_current() -> int:
    return feed_seq_current(STOCK_SEQ_KEY)


def feed_rates() -> dict[str, tuple[str, int]]:
    """code -> (rate, decimals) of every active currency with a rate, for the consumers."""
    rows = currency_list(active_only=True).values_list("code", "rate", "decimals")  # type: ignore[misc]  # annotated
    return {code: (str(rate), decimals) for code, rate, decimals in rows if rate is not None}


def batch_message(batch: PriceBatch, *, seq: int) -> dict[str, Any]:
    return {
        "type": "feed.prices",
        "seq": seq,
        "at": batch.at.isoformat(),
        "source": batch.source,
        # One string, not a list: every consumer of a process decodes the message
        # on its own, and a string decodes at memcpy speed (shop.realtime.feed
        # decodes the prices once per process). The write packed them already.
        "prices": batch.prices.wire,
        "rates": feed_rates(),
    }


def publish_prices(batch: PriceBatch) -> None:
    """Send one batch to every feed client. Never raises: the prices are committed
    already, and a feed outage must not fail the tick or request that made them."""
    try:
        message = batch_message(batch, seq=feed_seq_next())
        async_to_sync(get_channel_layer().group_send)(FEED_GROUP, message)
    except Exception:
        logger.exception("feed: batch of %d prices not published", len(batch))
        return
    logger.debug("feed: batch %s published (%d prices)", message["seq"], len(batch))
    # After the feed's own send, so nobody listening can delay the feed.
    try:
        event_emit(kind=EventType.PRICES_BATCH, subject=PublishedBatch(seq=message["seq"], batch=batch))
    except Exception:
        logger.exception("feed: batch %s not recorded for webhooks", message["seq"])


def feed_listener(kind: PriceEvent, subject: Any) -> None:
    """Publish every committed price batch (subscribed to PriceEvent.COMMITTED in RealtimeConfig.ready)."""
    publish_prices(subject)


def stock_message(rows: list[StockRow], *, seq: int) -> dict[str, Any]:
    """The group message of one committed stock change: ``[goods, available, version]`` rows (the
    goods' row version orders two levels of one goods, whichever was published first)."""
    return {
        "type": "feed.stock",
        "stock_seq": seq,
        "at": timezone.now().isoformat(),
        "goods": [[row.id, stock_available(row.stock, row.reserved), row.version] for row in rows],
    }


def publish_stock(rows: list[StockRow], *, send: Callable[[dict[str, Any]], object]) -> None:
    """Send the new levels of these goods to every feed client (the goods shoppers cannot see left
    out, but the message still goes: ``stock_seq`` stays gapless). Never raises: the change is
    committed already, and a feed outage must not fail the order or the request that made it.
    ``send``: how the group message goes (on the publisher thread's loop, StockPublisher)."""
    try:
        shown = goods_active_ids(goods_ids=[row.id for row in rows])
        message = stock_message([row for row in rows if row.id in shown], seq=feed_seq_next(STOCK_SEQ_KEY))
        send(message)
    except Exception:
        logger.exception("feed: stock of %d goods not published", len(rows))
        return
    logger.debug("feed: stock %s published (%d goods)", message["stock_seq"], len(message["goods"]))


def newest_levels(rows: Iterable[StockRow]) -> list[StockRow]:
    """One row per goods, the one of the highest row version, in goods id order."""
    newest: dict[int, StockRow] = {}
    for row in rows:
        if row.id not in newest or row.version > newest[row.id].version:
            newest[row.id] = row
    return [newest[goods] for goods in sorted(newest)]


class StockPublisher:
    """Publishes stock levels from a thread of its own, so that an order's request does not wait
    for the feed: a publish costs a query, a counter and a group send (about 18 ms an order when
    made in the request, `docs/benchmarks.md`), while handing the levels over costs a queue put.

    The thread keeps one event loop, so the channel layer keeps its Redis connection between
    sends; and it publishes whatever has queued since its last message as one, the newest level
    of each goods, at most one message every STOCK_PUBLISH_INTERVAL_SECONDS: a burst of orders
    costs the feed a few messages a second, not one per order (each costs a query, a counter and
    a send, and the process's other threads wait for this one's Python meanwhile). Started on first use in each process (a forked child starts its own).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue[list[StockRow]] = queue.SimpleQueue()

    def put(self, rows: list[StockRow]) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._queue = os.getpid(), queue.SimpleQueue()
                threading.Thread(
                    target=self._run, args=(self._queue,), name="feed-stock", daemon=True
                ).start()
        self._queue.put(rows)

    def _run(self, waiting: "queue.SimpleQueue[list[StockRow]]") -> None:
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()

        def send(message: dict[str, Any]) -> None:
            loop.run_until_complete(layer.group_send(FEED_GROUP, message))

        while True:
            rows = waiting.get()
            started = time.monotonic()
            while not waiting.empty():
                rows = rows + waiting.get_nowait()
            close_old_connections()
            publish_stock(newest_levels(rows), send=send)
            # At most one message an interval: under a run of orders the levels gather meanwhile
            # and go as one, so the feed costs the process a few sends a second, not one an order.
            time.sleep(max(0.0, STOCK_PUBLISH_INTERVAL_SECONDS - (time.monotonic() - started)))


_stock_publisher = StockPublisher()


def stock_listener(kind: StockEvent, subject: list[StockRow]) -> None:
    """Publish every committed stock change (subscribed to StockEvent.CHANGED in RealtimeConfig.ready)."""
    _stock_publisher.put(subject)
