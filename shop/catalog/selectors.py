from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from shop.catalog.errors import CatalogErrorCode
from shop.catalog.goods_store import GoodsVersion, goods_store, running_sale_q, with_running_sale
from shop.catalog.history_store import RecentPrice, history_store
from shop.catalog.models import Goods, Price, Sale, Tick
from shop.core.errors import ValidationError
from shop.core.health import HealthReport
from shop.domain.candles import Candle
from shop.domain.stock import stock_available


def sale_list(*, include_inactive_goods: bool = False) -> QuerySet[Sale]:
    """Sales with their goods; shoppers see only the active ones, like everywhere else."""
    goods = Goods.objects.all() if include_inactive_goods else Goods.objects.filter(is_active=True)
    return Sale.objects.prefetch_related(Prefetch("goods", queryset=goods))


def sale_running_list(*, at: datetime | None = None) -> QuerySet[Sale]:
    return Sale.objects.filter(running_sale_q(at or timezone.now()))


def goods_list(*, include_inactive: bool = False) -> QuerySet[Goods]:
    """Goods with ``running_sale_id`` and ``running_sale_version`` annotated (the sale that ticks
    them now)."""
    qs = with_running_sale(Goods.objects.all(), at=timezone.now())
    return qs if include_inactive else qs.filter(is_active=True)


def goods_detail_get(*, goods_id: int, include_inactive: bool = False) -> Goods | None:
    """One goods as ``goods_list()`` has it (the hottest read of the shop, SPEC §9: one plain
    statement); None when it is not shown."""
    return goods_store().detail(goods_id=goods_id, include_inactive=include_inactive)


def goods_page(*, limit: int, offset: int, include_inactive: bool = False) -> tuple[list[Goods], int]:
    """``goods_list()[offset:offset + limit]`` in id order, and the count of ``goods_list()``.

    On PostgreSQL the count is kept per version of the set of goods: counting 100,000 goods
    costs the database tens of milliseconds, and the set changes far less often than it is listed.
    """
    return goods_store().page(limit=limit, offset=offset, include_inactive=include_inactive)


def goods_page_versions(
    *, limit: int, offset: int, include_inactive: bool = False
) -> tuple[list[GoodsVersion], int]:
    """What ``goods_page`` would read, as one GoodsVersion a goods (id, row version, running sale
    and its row version), and the same count: the key of a page's cached representation, read
    in one plain statement without a model per row, so that a page served from the cache (the
    common case: ticks move prices every few seconds, readers ask far more often) costs no more."""
    return goods_store().page_versions(limit=limit, offset=offset, include_inactive=include_inactive)


# The board's orders: key -> what a shopper reads. Goods without a price come last.
BOARD_SORTS = {"name": "Name", "price": "Price, low to high", "-price": "Price, high to low"}
_BOARD_ORDER = {
    "name": (F("name").asc(), F("id").asc()),
    "price": (F("price").asc(nulls_last=True), F("id").asc()),
    "-price": (F("price").desc(nulls_last=True), F("id").asc()),
}


def goods_board(*, search: str = "", sort: str = "name") -> QuerySet[Goods]:
    """Active goods for the storefront's board: names containing ``search``, in one of
    ``BOARD_SORTS``; only the columns a board row shows."""
    qs = Goods.objects.filter(is_active=True).only("id", "name", "description", "price", "stock", "reserved")
    if search:
        qs = qs.filter(name__icontains=search)
    return qs.order_by(*_BOARD_ORDER[sort])


def goods_shown_get(*, goods_id: int) -> Goods | None:
    """An active goods for its storefront page; None when unknown or inactive."""
    return Goods.objects.filter(id=goods_id, is_active=True).first()


class GoodsFields(Protocol):
    """What the orderable rule reads of a goods: a Goods or a row read under a lock."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def current_price_id(self) -> int | None: ...
    @property
    def stock(self) -> int | None: ...
    @property
    def reserved(self) -> int: ...


@dataclass(frozen=True)
class OrderableGoods:
    """A goods as an order freezes it: its name and current price (row id and amount)."""

    id: int
    name: str
    price_id: int
    price: Decimal
    stock: int | None = None  # SPEC §13: None, not tracked
    reserved: int = 0  # units held by cart reservations


def goods_orderable(goods: GoodsFields) -> OrderableGoods | None:
    """The one rule of what can be ordered (SPEC §4): an active goods with a price; None otherwise.
    (How many units can be is stock's rule: shop.domain.stock.)"""
    if not goods.is_active or goods.price is None or goods.current_price_id is None:
        return None
    return OrderableGoods(
        id=goods.id,
        name=goods.name,
        price_id=goods.current_price_id,
        price=goods.price,
        stock=goods.stock,
        reserved=goods.reserved,
    )


def goods_orderable_get(*, goods_ids: Collection[int]) -> dict[int, OrderableGoods]:
    """The goods among ``goods_ids`` that can be ordered now, by id; the others are left out.

    One query; the rule is applied here rather than in SQL so that it is written once
    (orders apply it to the goods rows they lock, too). ``goods_ids`` are a cart's or an
    order's, at most a few hundred.
    """
    rows = Goods.objects.filter(id__in=goods_ids).only(
        "id", "name", "is_active", "price", "current_price_id", "stock", "reserved"
    )
    found = (goods_orderable(goods) for goods in rows)
    return {goods.id: goods for goods in found if goods is not None}


def goods_in_sale_q(sale_id: int) -> Q:
    return Q(Exists(Sale.goods.through.objects.filter(sale_id=sale_id, goods_id=OuterRef("pk"))))


def price_list(
    *,
    include_inactive_goods: bool = False,
    goods_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Price]:
    """Price history; shoppers see only the prices of active goods."""
    qs = Price.objects.all() if include_inactive_goods else Price.objects.filter(goods__is_active=True)
    if goods_id is not None:
        qs = qs.filter(goods_id=goods_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lte=until)
    return qs


def price_recent(*, goods_id: int, limit: int = 50) -> list[Price]:
    return list(Price.objects.filter(goods_id=goods_id).order_by("-created_at", "-id")[:limit])


def price_recent_rows(
    *, goods_id: int, limit: int = 50
) -> list[tuple[int, Decimal, datetime, str, int | None]]:
    """(id, amount, created_at, source, sale) of the newest prices, without model instances."""
    qs = Price.objects.filter(goods_id=goods_id).order_by("-created_at", "-id")
    return list(qs.values_list("id", "amount", "created_at", "source", "sale_id")[:limit])


# What one request of recent prices may ask for: goods, and prices per goods (the board shows 50
# goods a page; its sparklines draw 30 prices each).
RECENT_GOODS_MAX = 100
RECENT_LIMIT_MAX = 50


def price_recent_of_goods(
    *, goods_ids: Sequence[int], limit: int, include_inactive_goods: bool = False
) -> list[RecentPrice]:
    """(goods, price id, amount, created_at) of the newest ``limit`` prices of each of these
    goods (at most RECENT_GOODS_MAX, limit at most RECENT_LIMIT_MAX), newest first, goods in
    the order given: one query. Shoppers see only the prices of active goods, as in ``price_list``."""
    if len(goods_ids) > RECENT_GOODS_MAX or not 1 <= limit <= RECENT_LIMIT_MAX:
        raise ValueError("the API bounds the goods and the limit")  # a caller's bug, not input
    if not goods_ids:
        return []
    return history_store().recent(goods_ids=goods_ids, limit=limit, include_inactive=include_inactive_goods)


def goods_price_version(*, goods_id: int, include_inactive: bool) -> tuple[int, int] | None:
    """(goods id, row version) of a goods, None when there is none (or it is hidden from the
    caller): what its price history looks like from its newest end. Every price written becomes
    its goods' current price, so it changes the goods row and its version (migration catalog
    0008); a price row never changes (the database refuses it)."""
    qs = Goods.objects.filter(pk=goods_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.values_list("id", "version").first()


def price_kept_until(created_at: datetime) -> datetime | None:
    """The time before which retention surely keeps a price created at ``created_at`` (None: for ever).

    Retention (``services.history.price_history_retire``) drops whole days older than
    PRICE_HISTORY_RAW_DAYS, counted from today's date: a price lives at least that many days.
    """
    days = settings.PRICE_HISTORY_RAW_DAYS
    return created_at + timedelta(days=days) if days else None


def price_current_list(*, goods_ids: Collection[int] | None = None) -> list[tuple[int, Decimal, datetime]]:
    """``(goods, price, at)`` of every active goods that has a price: the feed's snapshot."""
    qs = Goods.objects.filter(is_active=True, price__isnull=False)
    if goods_ids is not None:
        qs = qs.filter(id__in=goods_ids)
    return list(qs.order_by("id").values_list("id", "price", "price_updated_at"))  # type: ignore[arg-type]


def goods_active_ids(*, goods_ids: Collection[int]) -> set[int]:
    """Which of these goods are active."""
    return set(Goods.objects.filter(id__in=goods_ids, is_active=True).values_list("id", flat=True))


def goods_active_of_sales(*, sale_ids: Collection[int]) -> list[tuple[int, int]]:
    """(goods id, sale id) of the active goods of these sales, in goods id order, each goods
    once (the tick's hot path: one query, no model per row)."""
    return goods_store().active_of_sales(sale_ids)


# The most history rows (raw prices and stored one-minute candles) one candles request may read.
MAX_CANDLE_ROWS = 200_000

TOO_MANY_CANDLE_ROWS = (
    f"This window holds more than {MAX_CANDLE_ROWS} prices; narrow since/until (or read an older, "
    "rolled-up window)."
)


def price_candles(*, goods_id: int, seconds: int, since: datetime, until: datetime) -> list[Candle]:
    """Candles of one goods: from raw prices where they still exist, from the
    stored one-minute candles where retention has rolled the raw rows up.
    400 when the window holds more than MAX_CANDLE_ROWS of them."""
    found = history_store().candles(
        goods_id=goods_id, seconds=seconds, since=since, until=until, max_rows=MAX_CANDLE_ROWS
    )
    if found is None:
        raise ValidationError(TOO_MANY_CANDLE_ROWS, code=CatalogErrorCode.TOO_MANY_PRICES)
    return found


def ticks_health(*, now: datetime | None = None) -> HealthReport:
    """``{"status": "ok"|"stalled"|"idle", "last_at"}`` for ``/healthz``: ``stalled`` when a sale is
    running and no tick committed for TICKS_STALLED_INTERVALS intervals (counted from the sale's
    start when it started later than the newest tick)."""
    now = now or timezone.now()
    last_at = Tick.objects.order_by("-slot").values_list("started_at", flat=True).first()
    running = sale_running_list(at=now).aggregate(count=Count("id"), since=Max("starts_at"))
    body: dict[str, Any] = {"last_at": last_at.isoformat() if last_at else None}
    if not running["count"]:
        return HealthReport(body={"status": "idle", **body})
    window = timedelta(seconds=settings.TICKS_STALLED_INTERVALS * settings.PRICE_TICK_SECONDS)
    since = max((t for t in (last_at, running["since"]) if t is not None), default=None)
    stalled = since is None or now - since > window
    return HealthReport(body={"status": "stalled" if stalled else "ok", **body}, ok=not stalled)


def stock_level_list(*, goods_ids: Collection[int] | None = None) -> dict[int, tuple[int, int]]:
    """Goods id -> (available, row version) of the goods that track stock, among ``goods_ids``
    (None: every active goods); one query. Untracked goods are left out: their ``available`` is
    null. The version orders this level against those the feed publishes (the feed's snapshot)."""
    qs = Goods.objects.filter(stock__isnull=False)
    qs = qs.filter(is_active=True) if goods_ids is None else qs.filter(id__in=goods_ids)
    levels = {}
    for goods, stock, reserved, version in qs.values_list("id", "stock", "reserved", "version"):
        available = stock_available(stock, reserved)
        if available is not None:
            levels[goods] = (available, version)
    return levels
