"""How goods are read and written where the ORM alone is too slow: one interface, a PostgreSQL
and an ORM (SQLite, embedded mode) implementation, chosen by vendor in ``goods_store()``.

The rule of a running sale (SPEC §4) is written here once per way it runs: ``RUNNING_SALE_SQL``
for statements, ``running_sale_q`` for the ORM, side by side (``Sale.is_running_at`` says it in
Python for one sale in hand); ``catalog/tests/test_store.py`` holds the three to the same answers
on both vendors.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from shop.catalog.models import Goods, Sale
from shop.catalog.stock_store import StockRow

# A sale ``s`` is running at the moment %(now)s.
RUNNING_SALE_SQL = "s.is_active AND (s.starts_at IS NULL OR s.starts_at <= %(now)s) AND (s.ends_at IS NULL OR s.ends_at > %(now)s)"


def running_sale_q(at: datetime, prefix: str = "") -> Q:
    """Sales that are running at ``at`` (the sale's fields behind ``prefix``): RUNNING_SALE_SQL."""
    return (
        Q(**{f"{prefix}is_active": True})
        & (Q(**{f"{prefix}starts_at__isnull": True}) | Q(**{f"{prefix}starts_at__lte": at}))
        & (Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": at}))
    )


def with_running_sale(goods: "QuerySet[Goods]", *, at: datetime) -> "QuerySet[Goods]":
    """``goods`` with ``running_sale_id`` and ``running_sale_version``: the sale that ticks each
    at ``at`` (the lowest id, were there two), None outside one."""
    running = Sale.objects.filter(running_sale_q(at), goods=OuterRef("pk")).order_by("id")
    return goods.annotate(
        running_sale_id=Subquery(running.values("id")[:1]),
        running_sale_version=Subquery(running.values("version")[:1]),
    )


# The goods columns and their running sale, as with_running_sale annotates them: the goods detail
# and the first pages of the list are the hottest reads of the shop (SPEC §9), and these plain
# statements cost the ORM nothing to build.
_GOODS_COLUMNS = "g.*, rs.id AS running_sale_id, rs.version AS running_sale_version"
_GOODS_FROM = f"""catalog_goods g LEFT JOIN LATERAL (
    SELECT s.id, s.version FROM catalog_sale s JOIN catalog_sale_goods sg ON sg.sale_id = s.id
    WHERE sg.goods_id = g.id AND {RUNNING_SALE_SQL}
    ORDER BY s.id LIMIT 1
) rs ON true"""  # noqa: S608 - constant text

GOODS_DETAIL_SQL = f"""
SELECT {_GOODS_COLUMNS} FROM {_GOODS_FROM}
WHERE g.id = %(id)s AND (g.is_active OR %(all)s)
"""  # noqa: S608 - constant text; the values go as parameters

# A page in id order and, in the same round trip, the version of the set of goods (migration
# catalog 0007: it changes with every statement that adds, removes, hides or shows goods).
GOODS_PAGE_SQL = f"""
SELECT {_GOODS_COLUMNS}, (SELECT n FROM catalog_goods_version) AS goods_set_version FROM {_GOODS_FROM}
WHERE g.is_active OR %(all)s
ORDER BY g.id LIMIT %(limit)s OFFSET %(offset)s
"""  # noqa: S608 - constant text; the values go as parameters

# What the page's representation is made of (api.goods_version), without its rows: what a request
# answered from the cache of rendered pages reads (no model per row).
GOODS_PAGE_VERSIONS_SQL = f"""
SELECT g.id, g.version, rs.id, rs.version, (SELECT n FROM catalog_goods_version) FROM {_GOODS_FROM}
WHERE g.is_active OR %(all)s
ORDER BY g.id LIMIT %(limit)s OFFSET %(offset)s
"""  # noqa: S608 - constant text; the values go as parameters

GOODS_COUNT_SQL = """
SELECT (SELECT n FROM catalog_goods_version), count(*) FROM catalog_goods WHERE is_active OR %(all)s
"""

# Every changed goods in one statement, from arrays (Django's bulk_update builds a CASE per column
# and row, which costs seconds of Python for a few thousand goods); their stock too when
# %(stock)s is true. The rows as they are after it: what a stock change announces.
UPDATE_MANY_SQL = """
UPDATE catalog_goods SET name = v.name, description = v.description, is_active = v.is_active,
    stock = CASE WHEN %(stock)s THEN v.stock ELSE catalog_goods.stock END
FROM unnest(
    %(ids)s::bigint[], %(names)s::text[], %(descriptions)s::text[], %(active)s::boolean[], %(stocks)s::integer[]
) AS v (id, name, description, is_active, stock)
WHERE catalog_goods.id = v.id
RETURNING catalog_goods.id, catalog_goods.stock, catalog_goods.reserved, catalog_goods.version
"""

# What staff write of a goods (goods_update_many); never the price columns.
GOODS_COLUMNS = ("name", "description", "is_active")


# (goods id, its row version, its running sale's id and row version): what a goods' representation
# is made of (api.goods_version).
GoodsVersion = tuple[int, int, int | None, int | None]


class GoodsStore(Protocol):
    def detail(self, *, goods_id: int, include_inactive: bool) -> Goods | None:
        """One goods with its running sale, as ``with_running_sale`` annotates it; None when
        unknown (or inactive, without ``include_inactive``)."""

    def page(self, *, limit: int, offset: int, include_inactive: bool) -> tuple[list[Goods], int]:
        """Goods ``offset`` to ``offset + limit`` in id order, as ``detail`` reads them, and how
        many goods there are."""

    def page_versions(
        self, *, limit: int, offset: int, include_inactive: bool
    ) -> tuple[list[GoodsVersion], int]:
        """The GoodsVersion of each goods ``page`` reads, in its order, and the same count: a
        page's cache key without a model per row."""

    def update_many(self, goods: Sequence[Goods], *, stock: bool = False) -> list[StockRow]:
        """Write the GOODS_COLUMNS these goods hold now, and their ``stock`` too when asked; the
        StockRow of each goods written, as it is after the write, in goods id order."""

    def active_of_sales(self, sale_ids: Collection[int]) -> list[tuple[int, int]]:
        """(goods id, sale id) of the active goods of these sales, in goods id order, each goods once."""


def _active_of_sales(sale_ids: Collection[int]) -> list[tuple[int, int]]:
    # The tick's hot path: one query, its rows read as plain tuples (no model per row) and sorted
    # here, cheaper than the server's sort of 100,000 rows spilling to disk.
    if not sale_ids:
        return []
    query = (
        Sale.goods.through.objects.filter(sale_id__in=sale_ids, goods__is_active=True)
        .order_by()
        .values_list("goods_id", "sale_id")
        .query
    )
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort()
    sale_of: dict[int, int] = {}
    for goods, sale in rows:
        sale_of.setdefault(goods, sale)  # a goods runs in one sale at most; never twice in one tick
    return list(sale_of.items())


class PostgresGoodsStore:
    """Reads in one plain statement each; the list's count kept per version of the set of goods."""

    def __init__(self) -> None:
        # include_inactive -> (version of the set of goods, its count), for this process.
        self.counts: dict[bool, tuple[int, int]] = {}

    def detail(self, *, goods_id: int, include_inactive: bool) -> Goods | None:
        params = {"now": timezone.now(), "id": goods_id, "all": include_inactive}
        found = list(Goods.objects.raw(GOODS_DETAIL_SQL, params))
        return found[0] if found else None

    def page(self, *, limit: int, offset: int, include_inactive: bool) -> tuple[list[Goods], int]:
        params = {"now": timezone.now(), "all": include_inactive, "limit": limit, "offset": offset}
        page = list(Goods.objects.raw(GOODS_PAGE_SQL, params))
        version = page[0].goods_set_version if page else None  # type: ignore[attr-defined]  # selected
        return page, self._count(include_inactive, version)

    def page_versions(
        self, *, limit: int, offset: int, include_inactive: bool
    ) -> tuple[list[GoodsVersion], int]:
        params: dict[str, Any] = {
            "now": timezone.now(),
            "all": include_inactive,
            "limit": limit,
            "offset": offset,
        }
        with connection.cursor() as cursor:
            cursor.execute(GOODS_PAGE_VERSIONS_SQL, params)
            rows = cursor.fetchall()
        version = rows[0][4] if rows else None
        return [(row[0], row[1], row[2], row[3]) for row in rows], self._count(include_inactive, version)

    def _count(self, include_inactive: bool, version: int | None) -> int:
        """The count of the goods shown, kept for ``version`` of the set of goods (None: unknown,
        read it). Counting 100,000 goods costs the database tens of milliseconds, and the set
        changes far less often than it is listed."""
        kept = self.counts.get(include_inactive)
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        with connection.cursor() as cursor:  # the version and its count, read in one snapshot
            cursor.execute(GOODS_COUNT_SQL, {"all": include_inactive})
            version, count = cursor.fetchone()
        self.counts[include_inactive] = (version, count)
        return int(count)

    def update_many(self, goods: Sequence[Goods], *, stock: bool = False) -> list[StockRow]:
        with connection.cursor() as cursor:
            cursor.execute(
                UPDATE_MANY_SQL,
                {
                    "stock": stock,
                    "ids": [g.pk for g in goods],
                    "names": [g.name for g in goods],
                    "descriptions": [g.description for g in goods],
                    "active": [g.is_active for g in goods],
                    "stocks": [g.stock if stock else None for g in goods],
                },
            )
            return sorted(StockRow(*row) for row in cursor.fetchall())

    def active_of_sales(self, sale_ids: Collection[int]) -> list[tuple[int, int]]:
        return _active_of_sales(sale_ids)


class OrmGoodsStore:
    """Embedded mode (SQLite, small catalogs): the same reads and writes through the ORM."""

    def _goods(self, include_inactive: bool) -> "QuerySet[Goods]":
        goods = Goods.objects.all() if include_inactive else Goods.objects.filter(is_active=True)
        return with_running_sale(goods, at=timezone.now())

    def detail(self, *, goods_id: int, include_inactive: bool) -> Goods | None:
        return self._goods(include_inactive).filter(pk=goods_id).first()

    def page(self, *, limit: int, offset: int, include_inactive: bool) -> tuple[list[Goods], int]:
        goods = self._goods(include_inactive).order_by("id")
        return list(goods[offset : offset + limit]), goods.count()

    def page_versions(
        self, *, limit: int, offset: int, include_inactive: bool
    ) -> tuple[list[GoodsVersion], int]:
        goods = self._goods(include_inactive).order_by("id")
        rows = goods.values_list("id", "version", "running_sale_id", "running_sale_version")  # type: ignore[misc]  # annotated
        return list(rows[offset : offset + limit]), goods.count()

    def update_many(self, goods: Sequence[Goods], *, stock: bool = False) -> list[StockRow]:
        columns = (*GOODS_COLUMNS, "stock") if stock else GOODS_COLUMNS
        Goods.objects.bulk_update(goods, fields=columns, batch_size=1000)
        written = Goods.objects.filter(pk__in=[g.pk for g in goods]).order_by("id")
        return [StockRow(*row) for row in written.values_list("id", "stock", "reserved", "version")]

    def active_of_sales(self, sale_ids: Collection[int]) -> list[tuple[int, int]]:
        return _active_of_sales(sale_ids)


_POSTGRES, _ORM = PostgresGoodsStore(), OrmGoodsStore()


def goods_store() -> GoodsStore:
    """The implementation for this thread's database connection."""
    return _POSTGRES if connection.vendor == "postgresql" else _ORM
