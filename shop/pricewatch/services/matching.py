"""Every committed batch of prices, matched against the open alerts and standing orders (SPEC §15).

After a batch commits (a tick's chunk, an on-demand generation, a manual price), the process that
wrote it sends one match task (``PRICE_MATCHING``: the worker in stack mode, a thread in embedded
mode); the price write never waits for it and holds no lock for it. The match is set-based: one
statement fires every alert the batch crosses, one finds the standing orders it reaches
(shop.pricewatch.store), and those are filled a chunk at a time through the orders' placement.

Exactly once, across processes: an alert is fired by an UPDATE of the open alerts that skips
rows another matcher holds; a standing order is claimed FOR UPDATE SKIP LOCKED and must still be
open, in the transaction that places its order and marks it filled.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now

from shop.core.enqueue import enqueue_after_commit
from shop.core.errors import ShopError
from shop.core.events import Each, EventType, ShopperEvent, ShopperNotice, event_emit
from shop.core.metrics import ALERTS_FIRED, STANDING_ORDERS_FILLED
from shop.domain.price_batch import PriceBatch
from shop.orders.models import Order
from shop.orders.services.orders import LimitOrder, orders_place_limited
from shop.pricewatch.emails import alerts_email_schedule
from shop.pricewatch.messages import alert_message, filled_message
from shop.pricewatch.models import StandingOrder
from shop.pricewatch.store import Fired, watch_store

logger = logging.getLogger(__name__)

# shop.pricewatch.tasks.prices_match_task, named as the broker names it.
MATCH_TASK = "pricewatch.match"
# Standing orders placed in one transaction: their goods stay locked while it runs.
FILL_CHUNK = 200


@dataclass(frozen=True)
class Matched:
    alerts: list[Fired]
    filled: list[tuple[StandingOrder, Order]]


def batch_listener(kind: Any, batch: PriceBatch) -> None:
    """PriceEvent.COMMITTED: have the batch matched, after its commit, outside its transaction."""
    if len(batch):
        enqueue_after_commit(
            MATCH_TASK, batch.at.isoformat(), min(batch.ids), max(batch.ids), via=settings.PRICE_MATCHING
        )


def prices_match(*, at: datetime, first: int, last: int) -> Matched:
    """Fire the alerts and fill the standing orders that the batch of prices written at ``at``
    with ids ``first``..``last`` crosses."""
    return Matched(
        alerts=alerts_fire(at=at, first=first, last=last),
        filled=standing_orders_fill(at=at, first=first, last=last),
    )


@transaction.atomic
def alerts_fire(*, at: datetime, first: int, last: int) -> list[Fired]:
    """Fire the open alerts the batch crosses: recorded in one statement, told to webhooks
    (``price.alert``, recorded with them), and after commit to the shoppers' feed connections
    and by e-mail (one per shopper and tick: shop.pricewatch.emails)."""
    fired = watch_store().alerts_fire(at=at, first=first, last=last)
    if fired:
        event_emit(kind=EventType.PRICE_ALERT, subject=Each(tuple(fired)))
        transaction.on_commit(partial(_alerts_announce, fired))
    return fired


def _alerts_announce(fired: list[Fired]) -> None:
    ALERTS_FIRED.inc(len(fired))
    notices = tuple(ShopperNotice(alert.user_id, alert_message(alert)) for alert in fired)
    event_emit(kind=ShopperEvent.NOTICE, subject=Each(notices))
    alerts_email_schedule(user_ids=sorted({alert.user_id for alert in fired}))


def standing_orders_fill(*, at: datetime, first: int, last: int) -> list[tuple[StandingOrder, Order]]:
    """Fill the open standing orders whose limit the batch reaches, FILL_CHUNK of one currency
    at a time. One that cannot be placed now (its limit is below the price placement freezes, its
    goods short of stock, its currency without a rate) stays open."""
    by_currency = defaultdict(list)
    for standing_id, currency in watch_store().standing_crossed(at=at, first=first, last=last):
        by_currency[currency].append(standing_id)
    filled = []
    for currency, ids in by_currency.items():
        for start in range(0, len(ids), FILL_CHUNK):
            try:
                filled += _fill(currency_code=currency, ids=ids[start : start + FILL_CHUNK])
            except ShopError as exc:  # the currency went inactive, or has no rate: they stay open
                logger.warning("standing orders in %s not filled: %s", currency, exc.message)
    return filled


@transaction.atomic
def _fill(*, currency_code: str, ids: Sequence[int]) -> list[tuple[StandingOrder, Order]]:
    # Claimed in id order, before the goods are locked (the placement's lock order follows);
    # those another matcher holds are its to fill.
    claimed = list(
        StandingOrder.objects.select_for_update(skip_locked=True)
        .filter(id__in=ids, status=StandingOrder.Status.OPEN, expires_at__gt=Now())
        .order_by("id")
    )
    placed = orders_place_limited(
        currency_code=currency_code,
        wanted=[
            LimitOrder(
                key=standing.id,
                user_id=standing.user_id,
                goods=standing.goods_id,
                quantity=standing.quantity,
                max_unit_price=standing.limit_price,
            )
            for standing in claimed
        ],
    )
    filled = []
    for standing in claimed:
        order = placed.get(standing.id)
        if order is not None:
            standing.status, standing.order, standing.closed_at = (
                StandingOrder.Status.FILLED,
                order,
                order.created_at,
            )
            filled.append((standing, order))
    watch_store().standing_filled([(standing.id, order.id, order.created_at) for standing, order in filled])
    if filled:
        transaction.on_commit(partial(_fills_announce, filled))
    return filled


def _fills_announce(filled: list[tuple[StandingOrder, Order]]) -> None:
    STANDING_ORDERS_FILLED.inc(len(filled))
    notices = tuple(
        ShopperNotice(standing.user_id, filled_message(standing, order)) for standing, order in filled
    )
    event_emit(kind=ShopperEvent.NOTICE, subject=Each(notices))
