"""What a fired alert and a filled standing order say: on the shopper's feed connections, and to
webhooks (``price.alert``; a fill is an ``order.created`` like any order)."""

from typing import Any

from shop.domain.money import convert, format_amount
from shop.orders.models import Order
from shop.pricewatch.models import StandingOrder
from shop.pricewatch.store import Fired


def alert_message(alert: Fired) -> dict[str, Any]:
    return {
        "type": "alert",
        "alert": alert.id,
        "goods": alert.goods_id,
        "currency": alert.currency_id,
        "direction": alert.direction,
        "price": format_amount(alert.price, alert.decimals),
        "value": format_amount(alert.value, alert.decimals),
        "price_id": alert.price_id,
        "triggered_at": alert.triggered_at.isoformat(),
    }


def alert_payload(alert: Fired) -> dict[str, Any]:
    """The ``data`` of a ``price.alert`` webhook event: the feed's message, and whose alert it is."""
    data = alert_message(alert)
    del data["type"]
    return {**data, "user": alert.user_id}


def filled_message(standing: StandingOrder, order: Order) -> dict[str, Any]:
    decimals = order.currency.decimals
    (line,) = order.lines
    return {
        "type": "standing_order.filled",
        "standing_order": standing.id,
        "order": order.id,
        "goods": standing.goods_id,
        "quantity": standing.quantity,
        "currency": order.currency_id,
        "limit_price": format_amount(standing.limit_price, decimals),
        "unit_price": format_amount(
            convert(line.unit_price, rate=order.exchange_rate, decimals=decimals), decimals
        ),
        "order_sum": format_amount(order.order_sum, decimals),
        "filled_at": order.created_at.isoformat(),
    }
