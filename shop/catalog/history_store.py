"""How the price history is stored and read where the ORM alone cannot: one interface, a
PostgreSQL and an ORM (SQLite, embedded mode) implementation, chosen by vendor in
``history_store()``.

PostgreSQL partitions the history by day and rolls old partitions up into one-minute candles
(SPEC §10); shop.catalog.services.history decides which days, in which transactions. SQLite keeps
one plain table and everything in it.
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from shop.catalog.models import Price, PriceCandle
from shop.domain.candles import Candle, candles

PARTITION_PREFIX = "catalog_price_p"

PARTITIONS_SQL = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'catalog_price'::regclass AND c.relname LIKE %s
"""

ROLL_UP_SQL = """
INSERT INTO catalog_pricecandle (goods_id, minute, open, high, low, close)
SELECT goods_id, date_trunc('minute', created_at),
       (array_agg(amount ORDER BY created_at, id))[1], max(amount), min(amount),
       (array_agg(amount ORDER BY created_at DESC, id DESC))[1]
FROM {partition}
GROUP BY goods_id, date_trunc('minute', created_at)
ON CONFLICT (goods_id, minute) DO NOTHING
"""

# PostgreSQL buckets and aggregates; Python sees one row per candle. Each side reads at most
# %(rows)s rows (LIMIT), so a request can never read a goods' whole history.
CANDLES_SQL = """
WITH points AS (
    (SELECT minute AS at, 0 AS id, open, high, low, close FROM catalog_pricecandle
      WHERE goods_id = %(goods)s AND minute BETWEEN %(since)s AND %(until)s
      ORDER BY minute LIMIT %(rows)s)
    UNION ALL
    (SELECT created_at, id, amount, amount, amount, amount FROM catalog_price
      WHERE goods_id = %(goods)s AND created_at BETWEEN %(since)s AND %(until)s
      ORDER BY created_at, id LIMIT %(rows)s)
)
SELECT date_bin(make_interval(secs => %(seconds)s), at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS start,
       (array_agg(open ORDER BY at, id))[1], max(high), min(low),
       (array_agg(close ORDER BY at DESC, id DESC))[1], count(*)
  FROM points GROUP BY 1 ORDER BY 1
"""


# The newest prices of several goods (the board's sparklines): per goods, the index on
# (goods, created_at DESC, id DESC) reads just its newest %(limit)s rows, whatever the history's length
# (a window function over the goods' prices would rank all of them first). Goods in the order asked.
RECENT_SQL = """
SELECT p.goods_id, p.id, p.amount, p.created_at
  FROM unnest(%(goods)s::bigint[]) WITH ORDINALITY AS wanted(id, n)
  JOIN catalog_goods g ON g.id = wanted.id AND (%(all)s OR g.is_active)
 CROSS JOIN LATERAL (
       SELECT id, goods_id, amount, created_at FROM catalog_price
        WHERE goods_id = wanted.id ORDER BY created_at DESC, id DESC LIMIT %(limit)s
       ) p
 ORDER BY wanted.n, p.created_at DESC, p.id DESC
"""

RecentPrice = tuple[int, int, Decimal, datetime]  # (goods, price id, amount, created_at)


def partition_name(day: date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


class HistoryStore(Protocol):
    partitioned: bool  # whether the history has daily partitions (and retention)

    def partitions(self) -> dict[str, date]:
        """The daily partitions there are: name -> day."""

    def partition_create(self, day: date, *, start: datetime, end: datetime) -> None:
        """Create ``day``'s partition, for prices created in [start, end)."""

    def partition_retire(self, name: str) -> None:
        """Roll partition ``name`` up into one-minute candles, then drop it (inside the caller's
        transaction: both or neither)."""

    def candles(
        self, *, goods_id: int, seconds: int, since: datetime, until: datetime, max_rows: int
    ) -> list[Candle] | None:
        """One goods' candles of ``seconds`` over [since, until], from raw prices where they still
        exist and the stored one-minute candles where they were rolled up; None when these hold
        more than ``max_rows`` rows."""

    def recent(self, *, goods_ids: Sequence[int], limit: int, include_inactive: bool) -> list[RecentPrice]:
        """The newest ``limit`` prices of each of these goods, newest first, goods in the order
        given, in one statement; goods that are not shown (inactive, unless ``include_inactive``)
        or have no price are left out."""


class PostgresHistoryStore:
    partitioned = True

    def partitions(self) -> dict[str, date]:
        with connection.cursor() as cursor:
            cursor.execute(PARTITIONS_SQL, [PARTITION_PREFIX + "%"])
            names = [row[0] for row in cursor.fetchall()]
        return {name: date.fromisoformat(name[len(PARTITION_PREFIX) :]) for name in names}

    def partition_create(self, day: date, *, start: datetime, end: datetime) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {partition_name(day)} PARTITION OF catalog_price FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )

    def partition_retire(self, name: str) -> None:
        if not name.startswith(PARTITION_PREFIX) or not name[len(PARTITION_PREFIX) :].isdigit():
            raise ValueError(f"not a price history partition: {name!r}")  # names go into SQL text
        with connection.cursor() as cursor:
            cursor.execute(ROLL_UP_SQL.format(partition=name))
            cursor.execute(f"DROP TABLE {name}")

    def candles(
        self, *, goods_id: int, seconds: int, since: datetime, until: datetime, max_rows: int
    ) -> list[Candle] | None:
        params: dict[str, int | datetime] = {
            "goods": goods_id,
            "since": since,
            "until": until,
            "rows": max_rows + 1,
            "seconds": seconds,
        }
        with connection.cursor() as cursor:
            cursor.execute(CANDLES_SQL, params)
            rows = cursor.fetchall()
        if sum(row[5] for row in rows) > max_rows:
            return None
        return [Candle(*row[:5]) for row in rows]

    def recent(self, *, goods_ids: Sequence[int], limit: int, include_inactive: bool) -> list[RecentPrice]:
        params: dict[str, list[int] | int | bool] = {
            "goods": list(goods_ids),
            "limit": limit,
            "all": include_inactive,
        }
        with connection.cursor() as cursor:
            cursor.execute(RECENT_SQL, params)
            return [(goods, pid, amount, at) for goods, pid, amount, at in cursor.fetchall()]


class OrmHistoryStore:
    """Embedded mode (SQLite, small catalogs): one table, no partitions; candles merged in Python."""

    partitioned = False

    def partitions(self) -> dict[str, date]:
        return {}

    def partition_create(self, day: date, *, start: datetime, end: datetime) -> None:
        raise NotImplementedError("the price history is partitioned in PostgreSQL only")

    def partition_retire(self, name: str) -> None:
        raise NotImplementedError("the price history is partitioned in PostgreSQL only")

    def candles(
        self, *, goods_id: int, seconds: int, since: datetime, until: datetime, max_rows: int
    ) -> list[Candle] | None:
        rolled = PriceCandle.objects.filter(goods_id=goods_id, minute__gte=since, minute__lte=until)
        raw = Price.objects.filter(goods_id=goods_id, created_at__gte=since, created_at__lte=until)
        points = [
            Candle(c.minute, c.open, c.high, c.low, c.close)
            for c in rolled.order_by("minute")[: max_rows + 1]
        ]
        points += [
            Candle(at, amount, amount, amount, amount)
            for at, amount in raw.order_by("created_at", "id").values_list("created_at", "amount")[
                : max_rows + 1
            ]
        ]
        if len(points) > max_rows:
            return None
        return candles(points, seconds=seconds)

    def recent(self, *, goods_ids: Sequence[int], limit: int, include_inactive: bool) -> list[RecentPrice]:
        # Embedded mode's catalogs are small: ranking each goods' whole history is fine there.
        qs = Price.objects.filter(goods_id__in=goods_ids)
        if not include_inactive:
            qs = qs.filter(goods__is_active=True)
        ranked = qs.annotate(
            rank=Window(
                RowNumber(), partition_by=F("goods_id"), order_by=(F("created_at").desc(), F("id").desc())
            )
        ).filter(rank__lte=limit)
        rows = ranked.values_list("goods_id", "id", "amount", "created_at")
        order = {goods: n for n, goods in enumerate(goods_ids)}
        newest_first = sorted(rows, key=lambda row: (row[3], row[1]), reverse=True)
        return sorted(newest_first, key=lambda row: order[row[0]])  # stable: newest first per goods


_POSTGRES, _ORM = PostgresHistoryStore(), OrmHistoryStore()


def history_store() -> HistoryStore:
    """The implementation for this thread's database connection."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
