"""Domain events: the apps that change things announce them, the apps above listen.

Why not import the listener: catalog, currency and orders sit below the
realtime and webhooks apps (STYLE, "data flows one way"). They call
``event_emit`` and know nothing of who listens; realtime and webhooks
subscribe in their ``AppConfig.ready``, naming the kinds they want, and get
only those. Unlike Django signals, a call site is an explicit line in the
service that made the change, and a listener gets exactly one kind of call:
the event's type and the object it is about.

Called inside the writing transaction (order.created, rate.changed): a
listener that writes rows (the webhooks outbox) commits or rolls back with the
change itself, so an event exists exactly when its change does. Called after
commit (prices.batch, whose feed ``seq`` exists only then): the listener
writes in its own transaction.

A listener's failure never fails the change that emitted the event: it is
logged. The exception is a database error inside the caller's transaction,
which Django would not let the caller go on with anyway.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from django.db import DatabaseError

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """The events webhooks may subscribe to (their wire names)."""

    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_COMPLETED = "order.completed"
    ORDER_CANCELLED = "order.cancelled"
    PRICES_BATCH = "prices.batch"
    SALE_STARTED = "sale.started"
    SALE_ENDED = "sale.ended"
    RATE_CHANGED = "rate.changed"
    PRICE_ALERT = "price.alert"


class PriceEvent(StrEnum):
    """Announced by the one service that writes prices, after each batch commits; the live
    feed publishes the batch (SPEC §7) and announces it to webhooks as ``prices.batch``."""

    COMMITTED = "prices.committed"


class StockEvent(StrEnum):
    """Announced after a transaction that changed goods' stock or holds commits (SPEC §13), with
    the goods' new levels (shop.catalog.stock_store.StockRow each); the live feed publishes them."""

    CHANGED = "stock.changed"


class ShopperEvent(StrEnum):
    """Announced after commit when something happened that one shopper should hear of at once (an
    alert fired, a standing order filled; SPEC §15), with a :class:`ShopperNotice` (or ``Each`` of
    the notices one batch of prices caused); the live feed sends each message on every open
    connection of its shopper."""

    NOTICE = "shopper.notice"


@dataclass(frozen=True)
class ShopperNotice:
    user_id: int
    message: dict[str, Any]  # JSON-ready, sent as it is: {"type": "alert", ...}


@dataclass(frozen=True)
class Each:
    """Subjects of one kind announced together (the alerts one batch of prices fired, the orders
    one fill placed): as if each were emitted alone, but a listener may handle them at once (the
    webhooks outbox looks its endpoints up once, not once per subject)."""

    subjects: tuple[Any, ...]


Kind = TypeVar("Kind", EventType, PriceEvent, StockEvent, ShopperEvent)
_listeners: dict[EventType | PriceEvent | StockEvent | ShopperEvent, list[Callable[[Any, Any], object]]] = {}


def events_subscribe(listener: Callable[[Kind, Any], object], *, kinds: Iterable[Kind]) -> None:
    """Have ``listener`` called for each of ``kinds`` (once, however often it subscribes)."""
    for kind in kinds:
        listeners = _listeners.setdefault(kind, [])
        if listener not in listeners:
            listeners.append(listener)


def event_emit(*, kind: EventType | PriceEvent | StockEvent | ShopperEvent, subject: Any) -> None:
    """Tell the listeners of ``kind`` that it happened to ``subject`` (an order, a rate, a batch, ...)."""
    for listener in _listeners.get(kind, ()):
        try:
            listener(kind, subject)
        except DatabaseError:
            raise
        except Exception:
            logger.exception("event %s: a listener failed", kind)
