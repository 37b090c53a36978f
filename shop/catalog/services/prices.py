"""Writing prices: the one path every new price takes (tick, on-demand, manual)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from shop.catalog.models import Goods, Price
from shop.core.db import db_now
from shop.core.errors import ValidationError
from shop.realtime.publisher import publish_prices

PRICE_MUST_BE_POSITIVE = "A price must be greater than zero."


@dataclass(frozen=True)
class PriceBatch:
    at: datetime
    source: str
    prices: list[Price]


@transaction.atomic
def prices_record(
    *, amounts: Mapping[int, Decimal], source: str, sale_ids: Mapping[int, int] | None = None
) -> PriceBatch:
    """Append one price per goods and make it the goods' current price.

    Why the lock, then the clock: the goods rows are locked (FOR UPDATE, in id
    order so writers never deadlock) before the timestamp is read from the
    database clock. An order locks the goods it buys FOR SHARE before it takes
    its own timestamp. So a price is either committed before the order reads
    (and older than it) or written after the order commits (and newer than
    it): the order's price is always the newest one at its ``created_at``,
    even under READ COMMITTED and with ticks that start before and commit
    after an order (SPEC §4, consistency invariant).

    ``sale_ids`` names the sale that drew each goods' price, where one did.
    The batch is broadcast once, after commit.
    """
    sale_ids = sale_ids or {}
    if any(amount <= 0 for amount in amounts.values()):
        raise ValidationError(PRICE_MUST_BE_POSITIVE, code="price_not_positive")
    goods_ids = list(
        Goods.objects.select_for_update()
        .filter(id__in=list(amounts))
        .order_by("id")
        .values_list("id", flat=True)
    )
    at = db_now()
    prices = Price.objects.bulk_create(
        [
            Price(
                goods_id=goods_id,
                amount=amounts[goods_id],
                created_at=at,
                source=source,
                sale_id=sale_ids.get(goods_id),
            )
            for goods_id in goods_ids
        ]
    )
    Goods.objects.bulk_update(
        [
            Goods(id=price.goods_id, price=price.amount, price_updated_at=at, current_price_id=price.id)
            for price in prices
        ],
        fields=("price", "price_updated_at", "current_price_id"),
    )
    batch = PriceBatch(at=at, source=source, prices=prices)
    if prices:
        transaction.on_commit(lambda: publish_prices(batch))
    return batch


def price_create_manual(*, goods: Goods, amount: Decimal) -> Price:
    return prices_record(amounts={goods.id: amount}, source=Price.Source.MANUAL).prices[0]
