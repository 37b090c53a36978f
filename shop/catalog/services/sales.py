from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from shop.catalog.errors import CatalogErrorCode
from shop.catalog.models import Goods, Price, Sale
from shop.catalog.selectors import goods_active_of_sales
from shop.catalog.services.prices import prices_announce, prices_draw, sale_rules
from shop.core.db_store import db_now
from shop.core.errors import Conflict, ValidationError
from shop.core.services import model_update
from shop.core.throttling import Rate, limit_hit
from shop.domain.price_batch import PriceBatch
from shop.domain.price_strategies import MAX_STEP_PERCENT, MAX_TARGET_UNITS, MAX_WINDOW_SECONDS, Strategy

SALE_BOUNDS_INVALID = "min_price must be greater than 0 and not greater than max_price."
SALE_WINDOW_INVALID = "ends_at must be later than starts_at."
GOODS_IN_OTHER_SALE = "A goods belongs to at most one running sale; these are in another one."
SALE_NOT_RUNNING = "This sale is not running, so its prices cannot be generated."
STRATEGY_UNKNOWN = f"strategy is one of {', '.join(Strategy)}."
STEP_PERCENT_RANGE = f"step_percent is more than 0 and at most {MAX_STEP_PERCENT}."
WINDOW_SECONDS_RANGE = f"window_seconds is from 1 to {MAX_WINDOW_SECONDS}."
TARGET_UNITS_RANGE = f"target_units is from 0 to {MAX_TARGET_UNITS}."
GENERATE_TOO_SOON = "Prices of this sale were generated less than {seconds} seconds ago."


def _validate(
    *, min_price: Decimal, max_price: Decimal, starts_at: datetime | None, ends_at: datetime | None
) -> None:
    if not (0 < min_price <= max_price):
        raise ValidationError(SALE_BOUNDS_INVALID, code=CatalogErrorCode.SALE_BOUNDS)
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError(SALE_WINDOW_INVALID, code=CatalogErrorCode.SALE_WINDOW)


def _validate_strategy(strategy: Mapping[str, Any]) -> None:
    """The strategy and its parameters (SPEC §14) as the API and the model bound them."""
    unknown = set(strategy) - set(STRATEGY_FIELDS)
    if unknown:
        raise TypeError(f"not a sale's strategy field: {sorted(unknown)}")
    if "strategy" in strategy and strategy["strategy"] not in set(Strategy):
        raise ValidationError(STRATEGY_UNKNOWN, code=CatalogErrorCode.SALE_STRATEGY)
    step = strategy.get("step_percent")
    if step is not None and not 0 < step <= MAX_STEP_PERCENT:
        raise ValidationError(STEP_PERCENT_RANGE, code=CatalogErrorCode.SALE_STRATEGY)
    window = strategy.get("window_seconds")
    if window is not None and not 1 <= window <= MAX_WINDOW_SECONDS:
        raise ValidationError(WINDOW_SECONDS_RANGE, code=CatalogErrorCode.SALE_STRATEGY)
    target = strategy.get("target_units")
    if target is not None and not 0 <= target <= MAX_TARGET_UNITS:
        raise ValidationError(TARGET_UNITS_RANGE, code=CatalogErrorCode.SALE_STRATEGY)


def _ensure_goods_free(
    *,
    sale_id: int | None,
    is_active: bool,
    starts_at: datetime | None,
    ends_at: datetime | None,
    goods_ids: Sequence[int],
) -> None:
    """Reject goods that another active sale with an overlapping window holds.

    Two sales whose windows overlap would both be running in the overlap, so
    overlapping windows are what "at most one running sale" forbids. The goods
    rows are locked first, so two concurrent sale writes cannot both pass.
    """
    if not is_active or not goods_ids:
        return
    list(Goods.objects.select_for_update().filter(id__in=goods_ids).order_by("id").values_list("id"))
    overlap = Q(is_active=True, goods__in=goods_ids)
    if ends_at is not None:
        overlap &= Q(starts_at__isnull=True) | Q(starts_at__lt=ends_at)
    if starts_at is not None:
        overlap &= Q(ends_at__isnull=True) | Q(ends_at__gt=starts_at)
    others = Sale.objects.filter(overlap)
    if sale_id is not None:
        others = others.exclude(pk=sale_id)
    taken = sorted(set(others.values_list("goods__id", flat=True)))
    if taken:
        raise ValidationError(GOODS_IN_OTHER_SALE, code=CatalogErrorCode.GOODS_IN_OTHER_SALE, goods=taken)


@transaction.atomic
def sale_create(
    *,
    name: str,
    min_price: Decimal,
    max_price: Decimal,
    goods: Sequence[Goods] = (),
    is_active: bool = True,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    **strategy: Any,
) -> Sale:
    """A sale; ``strategy`` holds its pricing strategy and parameters (STRATEGY_FIELDS), each
    defaulting as the model does."""
    _validate(min_price=min_price, max_price=max_price, starts_at=starts_at, ends_at=ends_at)
    _validate_strategy(strategy)
    goods_ids = [g.id for g in goods]
    _ensure_goods_free(
        sale_id=None, is_active=is_active, starts_at=starts_at, ends_at=ends_at, goods_ids=goods_ids
    )
    sale = Sale.objects.create(
        name=name,
        min_price=min_price,
        max_price=max_price,
        is_active=is_active,
        starts_at=starts_at,
        ends_at=ends_at,
        **strategy,
    )
    sale.goods.set(goods_ids)
    return sale


STRATEGY_FIELDS = ["strategy", "step_percent", "window_seconds", "target_units"]
SALE_FIELDS = [
    "name",
    "min_price",
    "max_price",
    "goods",
    "is_active",
    "starts_at",
    "ends_at",
    *STRATEGY_FIELDS,
]


@transaction.atomic
def sale_update(*, sale: Sale, data: Mapping[str, Any]) -> Sale:
    """Change a sale; the rules are checked against the sale as it will be, before it is written.

    ``data["goods"]``, where given, replaces the sale's goods.
    """
    planned = {
        name: data.get(name, getattr(sale, name))
        for name in ("min_price", "max_price", "starts_at", "ends_at")
    }
    _validate(**planned)
    _validate_strategy({name: data[name] for name in STRATEGY_FIELDS if name in data})
    goods_ids = (
        [g.id for g in data["goods"]] if "goods" in data else list(sale.goods.values_list("id", flat=True))
    )
    _ensure_goods_free(
        sale_id=sale.pk,
        is_active=data.get("is_active", sale.is_active),
        starts_at=planned["starts_at"],
        ends_at=planned["ends_at"],
        goods_ids=goods_ids,
    )
    sale, _ = model_update(instance=sale, fields=SALE_FIELDS, data=data)
    return sale


@transaction.atomic
def sale_delete(*, sale: Sale) -> None:
    sale.delete()


@transaction.atomic
def sale_reprice(*, sale: Sale, source: str) -> PriceBatch:
    """New prices, by the sale's strategy within its bounds, for all its active goods: a tick's
    write, for one sale (the same draw, the same statement), announced after commit."""
    goods_sales = goods_active_of_sales(sale_ids=[sale.id])
    rules = sale_rules([sale], at=db_now())
    batch = prices_draw(
        goods_sales=goods_sales,
        bounds=rules.bounds,
        strategies=rules.strategies,
        demand=rules.demand_of(goods_sales),
        source=source,
    )
    if batch:
        transaction.on_commit(lambda: prices_announce(batch))
    return batch


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
        raise Conflict(SALE_NOT_RUNNING, code=CatalogErrorCode.SALE_NOT_RUNNING)
    _claim_generation_slot(sale.id)
    return sale_reprice(sale=sale, source=Price.Source.ON_DEMAND)
