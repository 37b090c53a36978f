from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from itertools import chain

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from shop.catalog.models import Goods, Price, PriceCandle, Sale
from shop.domain.candles import Candle, candles


def running_sales_q(at: datetime, prefix: str = "") -> Q:
    """Sales that are active with ``at`` inside their window (SPEC §4)."""
    return (
        Q(**{f"{prefix}is_active": True})
        & (Q(**{f"{prefix}starts_at__isnull": True}) | Q(**{f"{prefix}starts_at__lte": at}))
        & (Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": at}))
    )


def sale_list() -> QuerySet[Sale]:
    return Sale.objects.prefetch_related("goods")


def sale_running_list(*, at: datetime | None = None) -> QuerySet[Sale]:
    return Sale.objects.filter(running_sales_q(at or timezone.now()))


def goods_list(*, include_inactive: bool = False) -> QuerySet[Goods]:
    """Goods with ``running_sale_id`` annotated (the sale that ticks them now)."""
    running = Sale.objects.filter(running_sales_q(timezone.now()), goods=OuterRef("pk"))
    qs = Goods.objects.annotate(running_sale_id=Subquery(running.values("id")[:1]))
    return qs if include_inactive else qs.filter(is_active=True)


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
    qs = Goods.objects.filter(is_active=True).only("id", "name", "description", "price")
    if search:
        qs = qs.filter(name__icontains=search)
    return qs.order_by(*_BOARD_ORDER[sort])


def goods_shown_get(*, goods_id: int) -> Goods | None:
    """An active goods for its storefront page; None when unknown or inactive."""
    return Goods.objects.filter(id=goods_id, is_active=True).first()


def goods_in_sale_q(sale_id: int) -> Q:
    return Q(Exists(Sale.goods.through.objects.filter(sale_id=sale_id, goods_id=OuterRef("pk"))))


def price_list(
    *, goods_id: int | None = None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Price]:
    qs = Price.objects.all()
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


def price_current_list(*, goods_ids: Collection[int] | None = None) -> list[tuple[int, Decimal, datetime]]:
    """``(goods, price, at)`` of every active goods that has a price: the feed's snapshot."""
    qs = Goods.objects.filter(is_active=True, price__isnull=False)
    if goods_ids is not None:
        qs = qs.filter(id__in=goods_ids)
    return list(qs.order_by("id").values_list("id", "price", "price_updated_at"))  # type: ignore[arg-type]


def goods_active_ids_of_sale(*, sale_id: int) -> list[int]:
    """Ids of the sale's active goods, in id order (the tick's hot path: ints only)."""
    return list(
        Goods.objects.filter(is_active=True, sales__id=sale_id).order_by("id").values_list("id", flat=True)
    )


def price_candles(*, goods_id: int, seconds: int, since: datetime, until: datetime) -> list[Candle]:
    """Candles of one goods: from raw prices where they still exist, from the
    stored one-minute candles where retention has rolled the raw rows up."""
    rolled = PriceCandle.objects.filter(goods_id=goods_id, minute__gte=since, minute__lte=until).order_by(
        "minute"
    )
    raw = (
        Price.objects.filter(goods_id=goods_id, created_at__gte=since, created_at__lte=until)
        .order_by("created_at", "id")
        .values_list("created_at", "amount")
    )
    points = chain(
        (Candle(c.minute, c.open, c.high, c.low, c.close) for c in rolled.iterator()),
        (Candle(at, amount, amount, amount, amount) for at, amount in raw.iterator(chunk_size=5000)),
    )
    return candles(points, seconds=seconds)
