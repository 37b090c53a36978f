"""What each event carries in ``data``: the objects as the API shows them."""

from dataclasses import dataclass
from typing import Any

from shop.catalog.api import SaleSerializer
from shop.catalog.models import Sale
from shop.core.events import EventType
from shop.currency.api import ExchangeRateSerializer
from shop.currency.models import ExchangeRate
from shop.currency.selectors import base_currency_code, quote_get
from shop.domain.price_batch import PublishedBatch
from shop.orders.api import OrderSerializer
from shop.pricewatch.messages import alert_payload
from shop.realtime.feed import price_entries


@dataclass(frozen=True)
class SaleEnded:
    """A sale that stopped running; ``sale`` is None when it was deleted."""

    sale_id: int
    sale: Sale | None


ORDER_EVENTS = {
    EventType.ORDER_CREATED,
    EventType.ORDER_PAID,
    EventType.ORDER_COMPLETED,
    EventType.ORDER_CANCELLED,
}


def payload_of(kind: EventType, subject: Any) -> dict[str, Any]:
    if kind in ORDER_EVENTS:
        data = dict(OrderSerializer(subject).data)
        if kind == EventType.ORDER_CANCELLED:  # why: shopper, staff or expired
            data["reason"] = subject.history[-1].reason if subject.history else ""
        return data
    if kind == EventType.PRICES_BATCH:
        return prices_batch_data(subject)
    if kind == EventType.RATE_CHANGED:
        return rate_data(subject)
    if kind == EventType.SALE_STARTED:
        return dict(SaleSerializer(subject).data)
    if kind == EventType.SALE_ENDED:
        if subject.sale is None:
            return {"id": subject.sale_id, "deleted": True}
        return dict(SaleSerializer(subject.sale).data)
    if kind == EventType.PRICE_ALERT:
        return alert_payload(subject)
    raise ValueError(f"unknown event type {kind!r}")


def prices_batch_data(published: PublishedBatch) -> dict[str, Any]:
    """The feed's batch message, in the base currency: same ``seq``, ``at`` and prices."""
    at = published.batch.at.isoformat()
    quote = quote_get(code=None)
    return {
        "seq": published.seq,
        "at": at,
        "currency": quote.currency,
        "prices": price_entries(((goods, amount, at) for _, goods, amount, _ in published.batch.rows), quote),
    }


def rate_data(rate: ExchangeRate) -> dict[str, Any]:
    """The new rate as the rate history shows it, and the base currency it is quoted against."""
    return {**ExchangeRateSerializer(rate).data, "base": base_currency_code()}
