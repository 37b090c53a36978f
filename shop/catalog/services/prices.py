"""Writing prices: the one path every new price takes (tick, on-demand, manual).

The rule lives here (validate, lock the goods, then read the clock, then write,
then broadcast after commit); how each step reaches PostgreSQL or SQLite lives
in shop.catalog.price_store.

Why the lock, then the clock: the goods rows are locked (FOR UPDATE, in id
order so writers never deadlock) before the timestamp is read from the
database clock. An order locks the goods it buys (FOR SHARE, or FOR NO KEY UPDATE
where it takes stock) before it takes
its own timestamp. So a price is either committed before the order reads
(and older than it) or written after the order commits (and newer than it):
the order's price is always the newest one at its ``created_at``, even under
READ COMMITTED and with ticks that start before and commit after an order
(SPEC §4, consistency invariant).
"""

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from shop.catalog.demand import demand_units
from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Goods, Price, Sale
from shop.catalog.price_store import price_store
from shop.catalog.selectors import goods_active_ids
from shop.core.errors import ValidationError
from shop.core.events import PriceEvent, event_emit
from shop.domain.price_batch import PriceBatch
from shop.domain.price_draw import PriceDraw, RandInt
from shop.domain.price_strategies import Strategy, StrategyRule

PRICE_MUST_BE_POSITIVE = "A price must be greater than zero."


@transaction.atomic
def prices_record(*, amounts: Mapping[int, Decimal], source: str) -> PriceBatch:
    """Append one price per goods and make it the goods' current price (a manual price, an
    import). The batch is broadcast once, after commit, without the inactive goods: the
    feed, like every public read, shows active goods only."""
    if any(amount <= 0 for amount in amounts.values()):
        raise ValidationError(PRICE_MUST_BE_POSITIVE, code=CatalogErrorCode.PRICE_NOT_POSITIVE)
    store = price_store()
    goods_ids, at = store.lock_goods_then_clock(sorted(amounts), active_only=False)
    batch = store.write(at=at, source=source, prices=[(goods, amounts[goods], None) for goods in goods_ids])
    public = batch.only(goods_active_ids(goods_ids=goods_ids))  # the rows are locked: it holds until commit
    if public:
        transaction.on_commit(lambda: prices_announce(public))
    return batch


@transaction.atomic(savepoint=False)
def prices_draw(
    *,
    goods_sales: Sequence[tuple[int, int]],
    bounds: Mapping[int, tuple[Decimal, Decimal]],
    source: str,
    randint: RandInt = random.randint,
    strategies: Mapping[int, StrategyRule] | None = None,
    demand: Mapping[int, int] | None = None,
) -> PriceBatch:
    """Draw, append and make current one price per goods: the write of a tick's chunk and of a
    sale's on-demand generation. ``strategies``: the rule of each sale that does not draw
    uniformly (SPEC §14); ``demand``: units ordered per goods in its demand sale's window.

    ``goods_sales`` is (goods id, sale id) pairs in goods order, ``bounds`` each
    sale's (min_price, max_price); prices are drawn as :class:`PriceDraw` says.
    The same rule as :func:`prices_record`. On PostgreSQL the database draws the
    prices, in the statement that writes them; ``randint`` serves embedded mode
    (SQLite). The caller broadcasts the batch after commit (a tick publishes
    chunk by chunk).
    """
    sale_of = dict(goods_sales)
    store = price_store()
    # Active once locked: a goods deactivated since it was listed gets no price and no broadcast.
    goods_ids, at = store.lock_goods_then_clock([goods for goods, _ in goods_sales], active_only=True)
    draw = PriceDraw(
        goods_ids=goods_ids,
        sale_of=sale_of,
        bounds=bounds,
        randint=randint,
        strategies=strategies or {},
        demand=demand or {},
    )
    return store.draw(at=at, source=source, draw=draw)


@dataclass(frozen=True)
class SaleRules:
    """Sales as a draw reads them (``sale_rules``); ``demand``: window seconds -> goods -> units."""

    bounds: dict[int, tuple[Decimal, Decimal]]
    strategies: dict[int, StrategyRule]
    demand: dict[int, dict[int, int]]

    def demand_of(self, goods_sales: Sequence[tuple[int, int]]) -> dict[int, int]:
        """Goods id -> the units ordered in its sale's window, for the goods of demand sales."""
        units = {}
        for goods, sale in goods_sales:
            rule = self.strategies.get(sale)
            if rule is not None and rule.strategy == Strategy.DEMAND:
                units[goods] = self.demand[rule.window_seconds].get(goods, 0)
        return units


def sale_rules(sales: Iterable[Sale], *, at: datetime) -> SaleRules:
    """What a draw needs of these sales (their bounds, the rules of those that do not draw
    uniformly) and the demand of their goods at ``at``: the units ordered in each demand
    sale's window (shop.catalog.demand)."""
    sales = list(sales)
    bounds = {sale.id: (sale.min_price, sale.max_price) for sale in sales}
    strategies = {
        sale.id: StrategyRule(
            strategy=Strategy(sale.strategy),
            step_percent=sale.step_percent,
            window_seconds=sale.window_seconds,
            target_units=sale.target_units,
        )
        for sale in sales
        if sale.strategy != Strategy.UNIFORM
    }
    windows = {rule.window_seconds for rule in strategies.values() if rule.strategy == Strategy.DEMAND}
    demand = {window: demand_units(since=at - timedelta(seconds=window)) for window in windows}
    return SaleRules(bounds=bounds, strategies=strategies, demand=demand)


def prices_of_batch(batch: PriceBatch) -> list[Price]:
    """The batch as Price instances (as written, without a query), for serializers."""
    return [
        Price(id=pid, goods_id=goods, amount=amount, created_at=batch.at, source=batch.source, sale_id=sale)
        for pid, goods, amount, sale in batch.rows
    ]


def price_create_manual(*, goods: Goods, amount: Decimal) -> Price:
    return prices_of_batch(prices_record(amounts={goods.id: amount}, source=Price.Source.MANUAL))[0]


def prices_announce(batch: PriceBatch) -> None:
    """Tell the listeners (the live feed) that ``batch`` committed; called after its commit."""
    event_emit(kind=PriceEvent.COMMITTED, subject=batch)
