"""Broadcast committed price batches and stock levels to the live feed (SPEC §7, §13).

Called from ``transaction.on_commit`` by the one service that writes prices,
so a batch is published once, after its commit, as one group message
(one Redis PUBLISH in stack mode) whatever the number of goods in it. Stock
levels go the same way after each committed stock change (StockEvent.CHANGED),
numbered by a sequence of their own (``stock_seq``): a client that follows only
prices then sees no gap in ``seq`` when stock moves.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
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


def publish_stock(rows: list[StockRow]) -> None:
    """Send the new levels of these goods to every feed client (the goods shoppers cannot see left
    out, but the message still goes: ``stock_seq`` stays gapless). Never raises: the change is
    committed already, and a feed outage must not fail the order or the request that made it."""
    try:
        shown = goods_active_ids(goods_ids=[row.id for row in rows])
        message = stock_message([row for row in rows if row.id in shown], seq=feed_seq_next(STOCK_SEQ_KEY))
        async_to_sync(get_channel_layer().group_send)(FEED_GROUP, message)
    except Exception:
        logger.exception("feed: stock of %d goods not published", len(rows))
        return
    logger.debug("feed: stock %s published (%d goods)", message["stock_seq"], len(message["goods"]))


def stock_listener(kind: StockEvent, subject: list[StockRow]) -> None:
    """Publish every committed stock change (subscribed to StockEvent.CHANGED in RealtimeConfig.ready)."""
    publish_stock(subject)
