"""How a price write reaches the database: one adapter per vendor, one interface.

shop.catalog.services.prices decides what is written and in which order (the
goods locked, then the clock read, then the prices written); this module only
says how, the way shop.core.db_store does for locks and the clock. PostgreSQL writes
a whole batch in one statement; SQLite (embedded mode, which serialises
writers) the same rows through the ORM.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.db import connection
from django.db.models import F, QuerySet

from shop.catalog.models import Goods, Price
from shop.core.db_store import db_now
from shop.domain.price_batch import NO_PRICES, PackedPrices, PriceBatch
from shop.domain.price_draw import PriceDraw, cent_bounds
from shop.domain.price_strategies import StrategyRule

# (goods id, amount, sale id) of a price to write.
NewPrice = tuple[int, Decimal, int | None]

# Every write below moves its goods' row version on itself (``version + 1``): the trigger that
# does it for any other UPDATE (migration catalog 0008) then has nothing to do, which spares a
# tick of 100,000 goods a function call per row.

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
    UPDATE catalog_goods SET price = new.amount, price_updated_at = %(at)s, current_price_id = new.id,
                             version = catalog_goods.version + 1
    FROM new WHERE catalog_goods.id = new.goods_id
)
SELECT array_agg(id ORDER BY goods_id) FROM new
"""


# A tick's chunk on PostgreSQL: the server draws the prices (whole cents, uniform over
# [low, low + span - 1]: floor(random() * span) is uniform over 0 .. span - 1), writes
# them, makes them current and hands back the batch's prices packed as the feed carries them
# (shop.domain.price_batch.PackedPrices: "goods:amount,...", in goods order), all in one
# statement. The rows travel as one "goods:sale:low:span,..." string, the bounds worked out
# per sale by shop.domain.price_draw.cent_bounds. The id range lets the server find the goods
# rows by one walk of the primary key (a hash join, not an index probe per goods).
# What both drawing statements end with: the ``drawn`` prices appended, made current, and handed
# back packed, with their ids.
_WRITE_DRAWN = """
new AS (
    INSERT INTO catalog_price (goods_id, amount, created_at, source, sale_id)
    SELECT goods_id, amount, %(at)s, %(source)s, sale_id FROM drawn
    RETURNING id, goods_id, amount
), current AS (
    UPDATE catalog_goods SET price = new.amount, price_updated_at = %(at)s, current_price_id = new.id,
                             version = catalog_goods.version + 1
    FROM new WHERE catalog_goods.id = new.goods_id AND catalog_goods.id BETWEEN %(first)s AND %(last)s
)
SELECT string_agg(goods_id || ':' || amount, ',' ORDER BY goods_id), array_agg(id ORDER BY goods_id) FROM new
"""
DRAW_AND_WRITE_SQL = f"""
WITH v AS (
    SELECT split_part(item, ':', 1)::bigint AS goods_id,
           split_part(item, ':', 2)::bigint AS sale_id,
           split_part(item, ':', 3)::bigint AS low,
           split_part(item, ':', 4)::float8 AS span
    FROM unnest(string_to_array(%(rows)s, ',')) AS item
), drawn AS (
    SELECT goods_id, sale_id, (low + floor(random() * span)::bigint)::numeric / 100 AS amount FROM v
), {_WRITE_DRAWN}"""  # noqa: S608 - constants only; the values go as parameters


# The walk's and demand's moves as SQL expressions over a goods' current price, for the statement
# below: shop.domain.price_strategies says them in Python, and catalog/tests/test_price_strategies.py
# holds both to the same results. Demand rounds the exact price once: with the pressure n / m
# (n whole units within ±m), the price is price × (m + step × n) / m, and div() divides exactly.
def walk_sql(price: str, u: str, low: str, high: str) -> str:
    return f"least(greatest(round({price} * (1 + {u}), 2), {low}), {high})"


def demand_sql(price: str, units: str, target: str, step: str, low: str, high: str) -> str:
    per = f"greatest({target}, 1)"
    n = f"least(greatest({units} - {target}, -{per}), {per})"
    cents = f"div({price} * ({per} + {step} * {n}) * 200 + {per}, 2 * {per})"
    return f"least(greatest(({cents} / 100)::numeric(12, 2), {low}), {high})"


# A tick's chunk with a walk or demand sale among its sales: as DRAW_AND_WRITE_SQL, but each goods'
# price follows its current one by its sale's strategy (the goods rows joined in: they are locked),
# a uniform draw where there is none or it is outside the bounds. The sales travel as one
# "sale:low:span:strategy:step:target:min:max,..." string, the goods as "goods:sale:units,...",
# units being the demand counted for the goods (0 for the others).
STRATEGY_DRAW_AND_WRITE_SQL = f"""
WITH s AS (
    SELECT split_part(item, ':', 1)::bigint AS sale_id,
           split_part(item, ':', 2)::bigint AS low,
           split_part(item, ':', 3)::float8 AS span,
           split_part(item, ':', 4) AS strategy,
           split_part(item, ':', 5)::numeric AS step,
           split_part(item, ':', 6)::bigint AS target,
           split_part(item, ':', 7)::numeric AS min_price,
           split_part(item, ':', 8)::numeric AS max_price
    FROM unnest(string_to_array(%(sales)s, ',')) AS item
), v AS (
    SELECT split_part(item, ':', 1)::bigint AS goods_id,
           split_part(item, ':', 2)::bigint AS sale_id,
           split_part(item, ':', 3)::bigint AS units
    FROM unnest(string_to_array(%(rows)s, ',')) AS item
), drawn AS (
    SELECT v.goods_id, v.sale_id, CASE
        WHEN s.strategy = 'walk' AND g.price BETWEEN s.min_price AND s.max_price THEN
            {walk_sql("g.price", "((random() * 2 - 1) * s.step::float8)::numeric", "s.min_price", "s.max_price")}
        WHEN s.strategy = 'demand' AND g.price BETWEEN s.min_price AND s.max_price THEN
            {demand_sql("g.price", "v.units", "s.target", "s.step", "s.min_price", "s.max_price")}
        ELSE (s.low + floor(random() * s.span)::bigint)::numeric / 100
    END AS amount
    FROM v JOIN s ON s.sale_id = v.sale_id JOIN catalog_goods g ON g.id = v.goods_id
    WHERE g.id BETWEEN %(first)s AND %(last)s
), {_WRITE_DRAWN}"""  # noqa: S608 - constants only; the values go as parameters


# Locks the goods (FOR UPDATE, in id order), then reads the clock, in one round trip:
# the aggregate consumes every locked row before its one output row, clock_timestamp()
# included, is computed. The server walks the primary key over the chunk's id range and
# keeps the listed ids (``id + 0``: a hashed filter, not thousands of index probes).
# ``active_only`` leaves out goods that are inactive once locked (PostgreSQL checks the
# WHERE again on a row a concurrent deactivation changed).
LOCK_THEN_CLOCK_SQL = """
SELECT clock_timestamp(), count(*) FROM (
    SELECT id FROM catalog_goods
    WHERE id BETWEEN %(first)s AND %(last)s AND id + 0 = ANY(string_to_array(%(ids)s, ',')::bigint[])
      AND (is_active OR NOT %(active_only)s)
    ORDER BY id FOR UPDATE
) AS locked
"""


def _lockable(goods_ids: list[int], *, active_only: bool) -> "QuerySet[Goods]":
    goods = Goods.objects.filter(id__in=goods_ids)
    return goods.filter(is_active=True) if active_only else goods


class PriceStore(Protocol):
    def lock_goods_then_clock(self, goods_ids: list[int], *, active_only: bool) -> tuple[list[int], datetime]:
        """Lock these goods (ids in ascending order) that still exist (and are active, with
        ``active_only``), then read the database clock; returns their ids and the time."""

    def write(self, *, at: datetime, source: str, prices: Sequence[NewPrice]) -> PriceBatch:
        """Append these prices (in goods order, the goods locked) and make them current."""

    def draw(self, *, at: datetime, source: str, draw: PriceDraw) -> PriceBatch:
        """Draw these prices (the goods locked), as ``draw.drawn()`` would, then write them
        as ``write`` does."""

    def writers(self, wanted: int) -> int:
        """How many connections may write a tick's chunks at once (``wanted`` at most): each
        on a thread of its own, outside any transaction of the caller's."""

    def thread_done(self) -> None:
        """A writer thread is done: its database connection goes back (to the pool)."""


def _sale_terms(draw: PriceDraw) -> list[str]:
    """Each sale of the draw as STRATEGY_DRAW_AND_WRITE_SQL reads it."""
    terms = []
    for sale, (min_price, max_price) in draw.bounds.items():
        low, high = cent_bounds(min_price, max_price)
        rule = draw.strategies.get(sale, StrategyRule())
        terms.append(
            f"{sale}:{low}:{high - low + 1}:{rule.strategy}:{rule.step}:{rule.target_units}:{min_price}:{max_price}"
        )
    return terms


class PostgresPriceStore:
    """Every write one statement; a tick's prices drawn by the server in it."""

    def lock_goods_then_clock(self, goods_ids: list[int], *, active_only: bool) -> tuple[list[int], datetime]:
        if not goods_ids:
            return [], db_now()
        with connection.cursor() as cursor:
            cursor.execute(
                LOCK_THEN_CLOCK_SQL,
                {
                    "first": goods_ids[0],
                    "last": goods_ids[-1],
                    "ids": ",".join(map(str, goods_ids)),
                    "active_only": active_only,
                },
            )
            at, count = cursor.fetchone()
        if count < len(goods_ids):  # some were deleted (or deactivated) since they were listed: rare
            existing = set(_lockable(goods_ids, active_only=active_only).values_list("id", flat=True))
            goods_ids = [goods for goods in goods_ids if goods in existing]
        return goods_ids, at

    def write(self, *, at: datetime, source: str, prices: Sequence[NewPrice]) -> PriceBatch:
        ids: Sequence[int] = []
        if prices:
            rows = ",".join(
                f"{goods}:{amount}:{'' if sale is None else sale}" for goods, amount, sale in prices
            )
            with connection.cursor() as cursor:
                cursor.execute(INSERT_AND_UPDATE_SQL, {"at": at, "source": source, "rows": rows})
                ids = cursor.fetchone()[0]  # ordered like the prices
        return PriceBatch.of_rows(
            at=at,
            source=source,
            rows=[(pid, goods, amount, sale) for pid, (goods, amount, sale) in zip(ids, prices, strict=True)],
        )

    def draw(self, *, at: datetime, source: str, draw: PriceDraw) -> PriceBatch:
        goods_ids, sale_of = draw.goods_ids, draw.sale_of
        if not goods_ids:
            return PriceBatch(at=at, source=source, prices=NO_PRICES, ids=[], sale_ids=[])
        params: dict[str, Any] = {"at": at, "source": source, "first": goods_ids[0], "last": goods_ids[-1]}
        if draw.follows_paths:
            sql = STRATEGY_DRAW_AND_WRITE_SQL
            params["sales"] = ",".join(_sale_terms(draw))
            params["rows"] = ",".join(f"{g}:{sale_of[g]}:{draw.demand.get(g, 0)}" for g in goods_ids)
        else:  # every goods drawn uniformly: no current price to read
            sql = DRAW_AND_WRITE_SQL
            drawn = {}  # sale -> "sale:low:span", the part of a row its sale decides
            for sale, (min_price, max_price) in draw.bounds.items():
                low, high = cent_bounds(min_price, max_price)
                drawn[sale] = f"{sale}:{low}:{high - low + 1}"
            params["rows"] = ",".join(f"{goods}:{drawn[sale_of[goods]]}" for goods in goods_ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            packed, ids = cursor.fetchone()
        return PriceBatch(
            at=at,
            source=source,
            prices=PackedPrices(packed),
            ids=ids,
            sale_ids=[sale_of[g] for g in goods_ids],
        )

    def writers(self, wanted: int) -> int:
        # Threads write on connections of their own, which cannot join the caller's transaction.
        return 1 if connection.in_atomic_block else wanted

    def thread_done(self) -> None:
        connection.close()


class OrmPriceStore:
    """Embedded mode (SQLite): the same writes through the ORM, drawn in Python. The write
    transaction locks the whole database, so no row needs locking."""

    def lock_goods_then_clock(self, goods_ids: list[int], *, active_only: bool) -> tuple[list[int], datetime]:
        existing = _lockable(goods_ids, active_only=active_only).order_by("id").values_list("id", flat=True)
        return list(existing), db_now()

    def write(self, *, at: datetime, source: str, prices: Sequence[NewPrice]) -> PriceBatch:
        created = Price.objects.bulk_create(
            [
                Price(goods_id=goods, amount=amount, created_at=at, source=source, sale_id=sale)
                for goods, amount, sale in prices
            ]
        )
        Goods.objects.bulk_update(
            [
                Goods(
                    id=p.goods_id,
                    price=p.amount,
                    price_updated_at=at,
                    current_price_id=p.id,
                    version=F("version") + 1,
                )
                for p in created
            ],
            fields=("price", "price_updated_at", "current_price_id", "version"),
        )
        return PriceBatch.of_rows(
            at=at,
            source=source,
            rows=[
                (p.id, goods, amount, sale) for p, (goods, amount, sale) in zip(created, prices, strict=True)
            ],
        )

    def draw(self, *, at: datetime, source: str, draw: PriceDraw) -> PriceBatch:
        if draw.follows_paths:  # the goods are the caller's to change: their prices are read as they are
            current = dict(Goods.objects.filter(id__in=draw.goods_ids).values_list("id", "price"))
            draw = replace(draw, current=current)
        return self.write(at=at, source=source, prices=draw.drawn())

    def writers(self, wanted: int) -> int:
        return 1  # SQLite has one writer at a time

    def thread_done(self) -> None:
        connection.close()


_POSTGRES, _ORM = PostgresPriceStore(), OrmPriceStore()


def price_store() -> PriceStore:
    """The adapter for this thread's database connection."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
