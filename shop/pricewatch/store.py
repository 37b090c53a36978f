"""How a committed batch of prices finds the alerts and standing orders it crosses: PostgreSQL in
one statement each, SQLite (embedded mode) through the ORM. The rule is the same (SPEC §15):

- a batch is the prices written at ``at`` with ids from ``first`` to ``last`` (one write's
  prices share its clock; the range keeps the lookup on the price_newest index);
- a price's value in a currency is its amount at the rate active at its created_at, rounded
  half up to the currency's decimals (PostgreSQL's round() of a positive numeric is half up);
- only alerts and standing orders created before the price count, and only active currencies.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple, Protocol

from django.db import connection, transaction

from shop.catalog.models import Price
from shop.core.db_store import db_now
from shop.core.errors import ValidationError
from shop.currency.models import Currency
from shop.currency.selectors import rate_active
from shop.currency.store import active_rate_sql
from shop.domain.money import convert
from shop.pricewatch.models import Alert, StandingOrder


class Fired(NamedTuple):
    """An alert as the batch that fired it left it."""

    id: int
    user_id: int
    goods_id: int
    currency_id: str
    decimals: int
    direction: str
    price: Decimal
    value: Decimal
    price_id: int
    triggered_at: datetime


class WatchStore(Protocol):
    def alerts_fire(self, *, at: datetime, first: int, last: int) -> list[Fired]:
        """Fire every open alert the batch crosses (once: an alert another matcher holds or fired
        is left to it), in this transaction; the alerts fired."""

    def standing_crossed(self, *, at: datetime, first: int, last: int) -> list[tuple[int, str]]:
        """(id, currency) of the open, unexpired standing orders whose limit the batch reaches, in
        id order. Nothing is locked: the fill claims them."""

    def standing_filled(self, filled: Sequence[tuple[int, int, datetime]]) -> None:
        """Mark these standing orders (id, order id, placed at) filled, in one statement."""


# --- PostgreSQL ----------------------------------------------------------------------------

# Locked in id order and skipping what another matcher holds: two processes matching the same
# batch neither wait for nor deadlock on each other, and each alert fires once. An alert the batch
# crosses fires on the first price of its goods that crossed it since it was created: matches of
# batches a moment apart may run side by side or out of order (two matching processes), and the
# later one must not take the earlier price's place. Only WINDOW back is looked at: every batch is
# matched within seconds, so an earlier crossing not yet matched is that recent.
WINDOW_SECONDS = 30

_BATCH_AND_RATES = f"""
batch AS MATERIALIZED (
    SELECT id, goods_id, amount FROM catalog_price
    WHERE created_at = %(at)s AND id BETWEEN %(first)s AND %(last)s
), rates AS MATERIALIZED (
    SELECT c.code, c.decimals, r.rate, EXISTS (
               SELECT FROM currency_exchangerate x
               WHERE x.currency_id = c.code
                 AND x.valid_from > %(at)s - interval '{WINDOW_SECONDS} seconds' AND x.valid_from <= %(at)s
           ) AS changed  -- within the window (ALERTS_FIRE_SQL's look-back)
    FROM currency_currency c
    JOIN LATERAL ({active_rate_sql(columns="rate", currency="c.code", at="%(at)s")}) AS r ON true
    WHERE c.is_active
)"""  # noqa: S608 - constants only
# A price's rate: the batch's own (``rate``) unless the currency's rate changed within the window,
# which is rare; then the one active at that price's created_at, looked up for it alone.
_PRICE_RATE = (
    "CASE WHEN NOT hit.changed THEN hit.rate "
    f"ELSE ({active_rate_sql(columns='rate', currency='hit.currency_id', at='p.created_at')}) END"
)
ALERTS_FIRE_SQL = f"""
WITH {_BATCH_AND_RATES}, hit AS (
    SELECT a.id, a.goods_id, a.currency_id, a.direction, a.price, a.created_at, r.decimals, r.rate, r.changed
    FROM batch b
    JOIN pricewatch_alert a ON a.goods_id = b.goods_id AND a.triggered_at IS NULL
    JOIN rates r ON r.code = a.currency_id
    WHERE a.created_at <= %(at)s
      AND CASE WHEN a.direction = 'below' THEN round(b.amount * r.rate, r.decimals) <= a.price
               ELSE round(b.amount * r.rate, r.decimals) >= a.price END
    ORDER BY a.id
    FOR UPDATE OF a SKIP LOCKED
)
UPDATE pricewatch_alert AS a
SET triggered_at = clock_timestamp(), price_id = first.id, value = first.value
FROM hit JOIN LATERAL (
    SELECT p.id, round(p.amount * ({_PRICE_RATE}), hit.decimals) AS value
    FROM catalog_price p
    WHERE p.goods_id = hit.goods_id
      AND p.created_at >= greatest(hit.created_at, %(at)s - interval '{WINDOW_SECONDS} seconds')
      AND p.created_at <= %(at)s
      AND CASE WHEN hit.direction = 'below' THEN round(p.amount * ({_PRICE_RATE}), hit.decimals) <= hit.price
               ELSE round(p.amount * ({_PRICE_RATE}), hit.decimals) >= hit.price END
    ORDER BY p.created_at, p.id
    LIMIT 1
) AS first ON true
WHERE a.id = hit.id AND a.triggered_at IS NULL
RETURNING a.id, a.user_id, a.goods_id, a.currency_id, hit.decimals, a.direction, a.price, a.value,
          a.price_id, a.triggered_at
"""  # noqa: S608 - constants only
FILLED_SQL = """
UPDATE pricewatch_standingorder AS s SET status = 'filled', order_id = v.order_id, closed_at = v.at
FROM unnest(%(ids)s::bigint[], %(orders)s::bigint[], %(ats)s::timestamptz[]) AS v (id, order_id, at)
WHERE s.id = v.id
"""
STANDING_CROSSED_SQL = f"""
WITH {_BATCH_AND_RATES}
SELECT s.id, s.currency_id
FROM batch b
JOIN pricewatch_standingorder s ON s.goods_id = b.goods_id AND s.status = 'open'
JOIN rates r ON r.code = s.currency_id
WHERE s.created_at <= %(at)s AND s.expires_at > %(at)s
  AND round(b.amount * r.rate, r.decimals) <= s.limit_price
ORDER BY s.id
"""  # noqa: S608 - constants only


class _PostgresWatchStore:
    def alerts_fire(self, *, at: datetime, first: int, last: int) -> list[Fired]:
        with connection.cursor() as cursor:
            cursor.execute(ALERTS_FIRE_SQL, {"at": at, "first": first, "last": last})
            return [Fired(*row) for row in cursor.fetchall()]

    def standing_crossed(self, *, at: datetime, first: int, last: int) -> list[tuple[int, str]]:
        with connection.cursor() as cursor:
            cursor.execute(STANDING_CROSSED_SQL, {"at": at, "first": first, "last": last})
            return [(sid, currency) for sid, currency in cursor.fetchall()]

    def standing_filled(self, filled: Sequence[tuple[int, int, datetime]]) -> None:
        if filled:
            ids, orders, ats = (list(column) for column in zip(*filled, strict=True))
            with connection.cursor() as cursor:
                cursor.execute(FILLED_SQL, {"ids": ids, "orders": orders, "ats": ats})


# --- SQLite (embedded mode) ----------------------------------------------------------------


def _values_at(at: datetime, currencies: set[str]) -> dict[str, tuple[Decimal, int]]:
    """code -> (rate active at ``at``, decimals) of those of ``currencies`` active and with a rate."""
    found = {}
    for currency in Currency.objects.filter(code__in=currencies, is_active=True):
        try:
            found[currency.code] = (rate_active(currency_code=currency.code, at=at).rate, currency.decimals)
        except ValidationError:  # no rate yet at that instant: nothing to compare in it
            continue
    return found


def _crosses(alert: Alert, value: Decimal) -> bool:
    return value <= alert.price if alert.direction == Alert.Direction.BELOW else value >= alert.price


def _first_crossing(alert: Alert, *, at: datetime, decimals: int) -> tuple[int, Decimal]:
    """(id, value) of the first price of the alert's goods that crossed it, since it was created
    and at most WINDOW_SECONDS before ``at`` (ALERTS_FIRE_SQL's rule): the batch's own price when
    no earlier one did."""
    since = max(alert.created_at, at - timedelta(seconds=WINDOW_SECONDS))
    prices = Price.objects.filter(goods_id=alert.goods_id, created_at__gte=since, created_at__lte=at)
    for price in prices.order_by("created_at", "id"):
        try:
            rate = rate_active(currency_code=alert.currency_id, at=price.created_at).rate
        except ValidationError:  # no rate yet at that instant (as the SQL's lateral finds none)
            continue
        value = convert(price.amount, rate=rate, decimals=decimals)
        if _crosses(alert, value):
            return price.id, value
    raise AssertionError("the batch's own price crosses the alert")


class _OrmWatchStore:
    """SQLite serialises writers: a plain read, then the updates, in one transaction."""

    def _batch(self, at: datetime, first: int, last: int) -> dict[int, tuple[int, Decimal]]:
        rows = Price.objects.filter(created_at=at, id__range=(first, last)).values_list(
            "goods_id", "id", "amount"
        )
        return {goods: (pid, amount) for goods, pid, amount in rows}

    def alerts_fire(self, *, at: datetime, first: int, last: int) -> list[Fired]:
        batch = self._batch(at, first, last)
        alerts = list(
            Alert.objects.filter(goods_id__in=batch, triggered_at__isnull=True, created_at__lte=at).order_by(
                "id"
            )
        )
        rates = _values_at(at, {alert.currency_id for alert in alerts})
        fired = []
        with transaction.atomic():
            now = db_now()
            for alert in alerts:
                if alert.currency_id not in rates:
                    continue
                rate, decimals = rates[alert.currency_id]
                price_id, amount = batch[alert.goods_id]
                value = convert(amount, rate=rate, decimals=decimals)
                crossed = _crosses(alert, value)
                if crossed:
                    price_id, value = _first_crossing(alert, at=at, decimals=decimals)
                if crossed and Alert.objects.filter(id=alert.id, triggered_at__isnull=True).update(
                    triggered_at=now, price_id=price_id, value=value
                ):
                    fired.append(
                        Fired(
                            alert.id,
                            alert.user_id,
                            alert.goods_id,
                            alert.currency_id,
                            decimals,
                            alert.direction,
                            alert.price,
                            value,
                            price_id,
                            now,
                        )
                    )
        return fired

    def standing_crossed(self, *, at: datetime, first: int, last: int) -> list[tuple[int, str]]:
        batch = self._batch(at, first, last)
        orders = StandingOrder.objects.filter(
            goods_id__in=batch, status=StandingOrder.Status.OPEN, created_at__lte=at, expires_at__gt=at
        ).order_by("id")
        rates = _values_at(at, set(orders.values_list("currency_id", flat=True)))
        return [
            (order.id, order.currency_id)
            for order in orders
            if order.currency_id in rates
            and convert(
                batch[order.goods_id][1],
                rate=rates[order.currency_id][0],
                decimals=rates[order.currency_id][1],
            )
            <= order.limit_price
        ]

    def standing_filled(self, filled: Sequence[tuple[int, int, datetime]]) -> None:
        for standing_id, order_id, at in filled:
            StandingOrder.objects.filter(id=standing_id).update(
                status=StandingOrder.Status.FILLED, order_id=order_id, closed_at=at
            )


_POSTGRES, _ORM = _PostgresWatchStore(), _OrmWatchStore()


def watch_store() -> WatchStore:
    """The implementation for this process's database."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
