from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from shop.catalog.models import Goods, Price, Sale
from shop.catalog.selectors import goods_active_ids_of_sale
from shop.catalog.services.prices import prices_record
from shop.core.errors import Conflict, ValidationError
from shop.core.throttling import Rate, limit_hit
from shop.domain.prices import PriceBatch
from shop.domain.pricing import draw_prices

SALE_BOUNDS_INVALID = "min_price must be greater than 0 and not greater than max_price."
SALE_WINDOW_INVALID = "ends_at must be later than starts_at."
GOODS_IN_OTHER_SALE = "A goods belongs to at most one running sale; these are in another one."
SALE_NOT_RUNNING = "This sale is not running, so its prices cannot be generated."
GENERATE_TOO_SOON = "Prices of this sale were generated less than {seconds} seconds ago."


def _validate(
    *, min_price: Decimal, max_price: Decimal, starts_at: datetime | None, ends_at: datetime | None
) -> None:
    if not (0 < min_price <= max_price):
        raise ValidationError(SALE_BOUNDS_INVALID, code="sale_bounds")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError(SALE_WINDOW_INVALID, code="sale_window")


def _ensure_goods_free(*, sale: Sale, goods_ids: Sequence[int]) -> None:
    """Reject goods that another active sale with an overlapping window holds.

    Two sales whose windows overlap would both be running in the overlap, so
    overlapping windows are what "at most one running sale" forbids. The goods
    rows are locked first, so two concurrent sale writes cannot both pass.
    """
    if not sale.is_active or not goods_ids:
        return
    list(Goods.objects.select_for_update().filter(id__in=goods_ids).order_by("id").values_list("id"))
    overlap = Q(is_active=True, goods__in=goods_ids)
    if sale.ends_at is not None:
        overlap &= Q(starts_at__isnull=True) | Q(starts_at__lt=sale.ends_at)
    if sale.starts_at is not None:
        overlap &= Q(ends_at__isnull=True) | Q(ends_at__gt=sale.starts_at)
    taken = sorted(set(Sale.objects.filter(overlap).exclude(pk=sale.pk).values_list("goods__id", flat=True)))
    if taken:
        raise ValidationError(GOODS_IN_OTHER_SALE, code="goods_in_other_sale", goods=taken)


@transaction.atomic
def sale_create(*, goods: Sequence[Goods] = (), **fields: Any) -> Sale:
    sale = Sale(**fields)
    _validate(
        min_price=sale.min_price, max_price=sale.max_price, starts_at=sale.starts_at, ends_at=sale.ends_at
    )
    goods_ids = [g.id for g in goods]
    _ensure_goods_free(sale=sale, goods_ids=goods_ids)
    sale.save()
    sale.goods.set(goods_ids)
    return sale


@transaction.atomic
def sale_update(*, sale: Sale, goods: Sequence[Goods] | None = None, **fields: Any) -> Sale:
    for name, value in fields.items():
        setattr(sale, name, value)
    _validate(
        min_price=sale.min_price, max_price=sale.max_price, starts_at=sale.starts_at, ends_at=sale.ends_at
    )
    goods_ids = [g.id for g in goods] if goods is not None else list(sale.goods.values_list("id", flat=True))
    _ensure_goods_free(sale=sale, goods_ids=goods_ids)
    sale.save()
    if goods is not None:
        sale.goods.set(goods_ids)
    return sale


@transaction.atomic
def sale_delete(*, sale: Sale) -> None:
    sale.delete()


def sale_reprice(*, sale: Sale, source: str) -> PriceBatch:
    """New prices, drawn within the sale's bounds, for all its active goods."""
    goods_ids = goods_active_ids_of_sale(sale_id=sale.id)
    amounts = dict(zip(goods_ids, draw_prices(len(goods_ids), sale.min_price, sale.max_price), strict=True))
    return prices_record(amounts=amounts, source=source, sale_ids=dict.fromkeys(amounts, sale.id))


def _claim_generation_slot(sale_id: int) -> None:
    """At most one generation per sale per interval, across all processes (the shop's
    one limiter, and its one policy when Redis is down: shop.core.throttling)."""
    interval = settings.GENERATE_PRICES_INTERVAL_SECONDS
    limit_hit(
        scope="generate_prices",
        ident=str(sale_id),
        rate=Rate(limit=1, window=interval, clock=False) if interval > 0 else None,
        message=GENERATE_TOO_SOON.format(seconds=interval),
    )


def sale_generate_prices(*, sale: Sale) -> PriceBatch:
    if not sale.is_running:
        raise Conflict(SALE_NOT_RUNNING, code="sale_not_running")
    _claim_generation_slot(sale.id)
    return sale_reprice(sale=sale, source=Price.Source.ON_DEMAND)
