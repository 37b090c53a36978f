"""Writing prices: the one path every new price takes (tick, on-demand, manual)."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.db import connection, transaction

from shop.catalog.models import Goods, Price
from shop.core.db import db_now
from shop.core.errors import ValidationError
from shop.domain.pricing import RandInt, cent_bounds, draw_prices
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


# A tick's chunk on PostgreSQL: the server draws the prices (whole cents, uniform over
# [low, low + span - 1]: floor(random() * span) is uniform over 0 .. span - 1), writes
# them, makes them current and hands back the feed's "goods:amount,..." string, all in
# one statement. The rows travel as one "goods:sale:low:span,..." string, the bounds
# worked out per sale by shop.domain.pricing.cent_bounds. The id range lets the server
# find the goods rows by one walk of the primary key (a hash join, not an index probe
# per goods).
DRAW_AND_WRITE_SQL = """
WITH v AS (
    SELECT split_part(item, ':', 1)::bigint AS goods_id,
           split_part(item, ':', 2)::bigint AS sale_id,
           split_part(item, ':', 3)::bigint AS low,
           split_part(item, ':', 4)::float8 AS span
    FROM unnest(string_to_array(%(rows)s, ',')) AS item
), new AS (
    INSERT INTO catalog_price (goods_id, amount, created_at, source, sale_id)
    SELECT goods_id, (low + floor(random() * span)::bigint)::numeric / 100, %(at)s, %(source)s, sale_id FROM v
    RETURNING id, goods_id, amount
), current AS (
    UPDATE catalog_goods SET price = new.amount, price_updated_at = %(at)s, current_price_id = new.id
    FROM new WHERE catalog_goods.id = new.goods_id AND catalog_goods.id BETWEEN %(first)s AND %(last)s
)
SELECT string_agg(goods_id || ':' || amount, ',' ORDER BY goods_id), array_agg(id ORDER BY goods_id) FROM new
"""


@dataclass(frozen=True)
class PriceBatch:
    """The prices one write committed together, in goods order.

    ``text`` is "goods:amount,...": the feed's own string (SPEC §7), made once by the
    write (for a tick, by the statement that drew the prices), so the hot path never
    turns 100,000 amounts into Decimals and back. ``rows`` parses it when asked.
    """

    at: datetime
    source: str
    text: str
    ids: Sequence[int]
    sale_ids: Sequence[int | None]

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def rows(self) -> list[tuple[int, int, Decimal, int | None]]:
        """(price id, goods id, amount, sale id) rows."""
        pairs = (item.split(":") for item in self.text.split(",")) if self.text else iter(())
        return [
            (pid, int(goods), Decimal(amount), sale)
            for pid, (goods, amount), sale in zip(self.ids, pairs, self.sale_ids, strict=True)
        ]

    @property
    def prices(self) -> list[Price]:
        return [
            Price(id=pid, goods_id=goods, amount=amount, created_at=self.at, source=self.source, sale_id=sale)
            for pid, goods, amount, sale in self.rows
        ]


def _batch_of_rows(at: datetime, source: str, rows: list[tuple[int, int, Decimal, int | None]]) -> PriceBatch:
    return PriceBatch(
        at=at,
        source=source,
        text=",".join(f"{goods}:{amount}" for _, goods, amount, _ in rows),
        ids=[pid for pid, _, _, _ in rows],
        sale_ids=[sale for _, _, _, sale in rows],
    )


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
    goods_ids, at = _lock_goods_then_clock(sorted(amounts))
    if connection.vendor == "postgresql":
        rows = _write_set_based(at, source, goods_ids, amounts, sale_ids)
    else:
        rows = _write_orm(at, source, goods_ids, amounts, sale_ids)
    batch = _batch_of_rows(at, source, rows)
    if batch:
        transaction.on_commit(lambda: publish_prices(batch))
    return batch


@transaction.atomic(savepoint=False)
def prices_draw(
    *,
    goods_sales: Sequence[tuple[int, int]],
    bounds: Mapping[int, tuple[Decimal, Decimal]],
    source: str,
    randint: RandInt = random.randint,
) -> PriceBatch:
    """Draw, append and make current one price per goods: the tick's write.

    ``goods_sales`` is (goods id, sale id) pairs in goods order, ``bounds`` each
    sale's (min_price, max_price); prices are drawn as :func:`draw_prices` does.
    The same rule as :func:`prices_record`: the goods are locked (in id order)
    before the clock is read. On PostgreSQL the database draws the prices, in
    the statement that writes them; ``randint`` serves embedded mode (SQLite).
    The caller broadcasts the batch after commit (a tick publishes chunk by chunk).
    """
    if connection.vendor != "postgresql":
        return _draw_orm(goods_sales, bounds, source, randint)
    sale_of = dict(goods_sales)
    goods_ids, at = _lock_goods_then_clock([goods for goods, _ in goods_sales])
    if not goods_ids:
        return PriceBatch(at=at, source=source, text="", ids=[], sale_ids=[])
    drawn = {}  # sale -> "sale:low:span", the part of a row its sale decides
    for sale, (min_price, max_price) in bounds.items():
        low, high = cent_bounds(min_price, max_price)
        drawn[sale] = f"{sale}:{low}:{high - low + 1}"
    with connection.cursor() as cursor:
        cursor.execute(
            DRAW_AND_WRITE_SQL,
            {
                "at": at,
                "source": source,
                "rows": ",".join(f"{goods}:{drawn[sale_of[goods]]}" for goods in goods_ids),
                "first": goods_ids[0],
                "last": goods_ids[-1],
            },
        )
        text, ids = cursor.fetchone()
    return PriceBatch(at=at, source=source, text=text, ids=ids, sale_ids=[sale_of[g] for g in goods_ids])


# Locks the goods (FOR UPDATE, in id order), then reads the clock, in one round trip:
# the aggregate consumes every locked row before its one output row, clock_timestamp()
# included, is computed. The server walks the primary key over the chunk's id range and
# keeps the listed ids (``id + 0``: a hashed filter, not thousands of index probes).
LOCK_THEN_CLOCK_SQL = """
SELECT clock_timestamp(), count(*) FROM (
    SELECT id FROM catalog_goods
    WHERE id BETWEEN %(first)s AND %(last)s AND id + 0 = ANY(string_to_array(%(ids)s, ',')::bigint[])
    ORDER BY id FOR UPDATE
) AS locked
"""


def _lock_goods_then_clock(goods_ids: list[int]) -> tuple[list[int], datetime]:
    """Lock these goods (ids in ascending order) that still exist, then read the database
    clock; returns their ids and the time."""
    if connection.vendor != "postgresql":  # SQLite: the write transaction locks the whole database
        return list(
            Goods.objects.filter(id__in=goods_ids).order_by("id").values_list("id", flat=True)
        ), db_now()
    if not goods_ids:
        return [], db_now()
    with connection.cursor() as cursor:
        cursor.execute(
            LOCK_THEN_CLOCK_SQL,
            {"first": goods_ids[0], "last": goods_ids[-1], "ids": ",".join(map(str, goods_ids))},
        )
        at, count = cursor.fetchone()
    if count < len(goods_ids):  # some were deleted since they were listed: the rare case
        existing = set(Goods.objects.filter(id__in=goods_ids).values_list("id", flat=True))
        goods_ids = [goods for goods in goods_ids if goods in existing]
    return goods_ids, at


def _draw_orm(
    goods_sales: Sequence[tuple[int, int]],
    bounds: Mapping[int, tuple[Decimal, Decimal]],
    source: str,
    randint: RandInt,
) -> PriceBatch:
    """Embedded mode (SQLite, which serialises writers): drawn in Python, written through the ORM."""
    sale_of = dict(goods_sales)
    goods_ids, at = _lock_goods_then_clock(list(sale_of))
    amounts: dict[int, Decimal] = {}
    for sale, (low, high) in bounds.items():
        of_sale = [goods for goods in goods_ids if sale_of[goods] == sale]
        amounts.update(zip(of_sale, draw_prices(len(of_sale), low, high, randint), strict=True))
    return _batch_of_rows(at, source, _write_orm(at, source, goods_ids, amounts, sale_of))


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
