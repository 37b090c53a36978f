"""Writing prices: the one path every new price takes (tick, on-demand, manual)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction

from shop.catalog.models import Goods, Price
from shop.core.db import db_now
from shop.core.errors import ValidationError
from shop.realtime.publisher import publish_prices

PRICE_MUST_BE_POSITIVE = "A price must be greater than zero."

# PostgreSQL: the whole batch in one statement, whatever its size: the new
# history rows are inserted from arrays and the goods' current prices updated
# from what the insert returned (SPEC §9-§10: no per-goods round trips).
# The rows travel as one "goods:amount:sale,..." string, which the server splits:
# a single text parameter costs nothing to send, where arrays of 100,000
# Decimals cost the client more than the whole write costs the server.
INSERT_AND_UPDATE_SQL = """
WITH v AS (
    SELECT split_part(item, ':', 1)::bigint AS goods_id,
           split_part(item, ':', 2)::numeric(12, 2) AS amount,
           nullif(split_part(item, ':', 3), '')::bigint AS sale_id
    FROM unnest(string_to_array(%(rows)s, ',')) AS item
), new AS (
    INSERT INTO catalog_price (goods_id, amount, created_at, source, sale_id)
    SELECT goods_id, amount, %(at)s, %(source)s, sale_id FROM v
    RETURNING id, goods_id, amount
), current AS (
    UPDATE catalog_goods SET price = new.amount, price_updated_at = %(at)s, current_price_id = new.id
    FROM new WHERE catalog_goods.id = new.goods_id
)
SELECT array_agg(id ORDER BY goods_id) FROM new
"""


@dataclass(frozen=True)
class PriceBatch:
    """The prices one write committed together: (price id, goods id, amount, sale id) rows."""

    at: datetime
    source: str
    rows: list[tuple[int, int, Decimal, int | None]]

    @property
    def prices(self) -> list[Price]:
        return [
            Price(id=pid, goods_id=goods, amount=amount, created_at=self.at, source=self.source, sale_id=sale)
            for pid, goods, amount, sale in self.rows
        ]


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
    goods_ids = _lock_goods(sorted(amounts))
    at = db_now()
    if connection.vendor == "postgresql":
        rows = _write_set_based(at, source, goods_ids, amounts, sale_ids)
    else:
        rows = _write_orm(at, source, goods_ids, amounts, sale_ids)
    batch = PriceBatch(at=at, source=source, rows=rows)
    if rows:
        transaction.on_commit(lambda: publish_prices(batch))
    return batch


def _lock_goods(goods_ids: list[int]) -> list[int]:
    """Lock the goods that still exist, in id order; returns their ids."""
    if connection.vendor != "postgresql":
        return list(Goods.objects.filter(id__in=goods_ids).order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(  # ids as one string, as in INSERT_AND_UPDATE_SQL
            "SELECT id FROM catalog_goods WHERE id = ANY(string_to_array(%s, ',')::bigint[]) ORDER BY id FOR UPDATE",
            [",".join(map(str, goods_ids))],
        )
        return [row[0] for row in cursor.fetchall()]


def _write_set_based(
    at: datetime,
    source: str,
    goods_ids: list[int],
    amounts: Mapping[int, Decimal],
    sale_ids: Mapping[int, int],
) -> list[tuple[int, int, Decimal, int | None]]:
    if not goods_ids:
        return []
    rows = ",".join(f"{g}:{amounts[g]}:{sale_ids.get(g, '')}" for g in goods_ids)
    with connection.cursor() as cursor:
        cursor.execute(INSERT_AND_UPDATE_SQL, {"at": at, "source": source, "rows": rows})
        ids = cursor.fetchone()[0]  # ordered like goods_ids
    return [(pid, g, amounts[g], sale_ids.get(g)) for pid, g in zip(ids, goods_ids, strict=True)]


def _write_orm(
    at: datetime,
    source: str,
    goods_ids: list[int],
    amounts: Mapping[int, Decimal],
    sale_ids: Mapping[int, int],
) -> list[tuple[int, int, Decimal, int | None]]:
    """Embedded mode (SQLite): the same writes through the ORM."""
    prices = Price.objects.bulk_create(
        [
            Price(goods_id=g, amount=amounts[g], created_at=at, source=source, sale_id=sale_ids.get(g))
            for g in goods_ids
        ]
    )
    Goods.objects.bulk_update(
        [Goods(id=p.goods_id, price=p.amount, price_updated_at=at, current_price_id=p.id) for p in prices],
        fields=("price", "price_updated_at", "current_price_id"),
    )
    return [(p.id, p.goods_id, amounts[p.goods_id], sale_ids.get(p.goods_id)) for p in prices]


def price_create_manual(*, goods: Goods, amount: Decimal) -> Price:
    return prices_record(amounts={goods.id: amount}, source=Price.Source.MANUAL).prices[0]
