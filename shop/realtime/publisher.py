"""Broadcast committed price batches to the live feed (SPEC §7).

Called from ``transaction.on_commit`` by the one service that writes prices,
so a batch is published once, after its commit, as one group message
(one Redis PUBLISH in stack mode) whatever the number of goods in it.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

from shop.core.events import EventType, PriceEvent, event_emit
from shop.currency.selectors import currency_list
from shop.domain.price_batch import PriceBatch, PublishedBatch

logger = logging.getLogger(__name__)

FEED_GROUP = "price_updates"
SEQ_KEY = "tickshop:feed:seq"


def feed_seq_next() -> int:
    """The next batch number, shared by every process of the deployment."""
    cache.add(SEQ_KEY, 0, timeout=None)
    return int(cache.incr(SEQ_KEY))


def feed_seq_current() -> int:
    return int(cache.get(SEQ_KEY) or 0)


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
