"""Cart reservations (SPEC §13, CART_RESERVATION_SECONDS > 0): adding to the cart holds units.

A cart line of a tracked goods holds its quantity until ``held_until``; the goods' ``reserved``
is the sum of the live holds of its lines, recomputed here under the goods' lock whenever a hold
changes (never counted up and down, so it cannot drift). A hold past its time stops counting
at once for every placement (which recomputes its goods first) and is cleared by
``holds_expire``, run every second (beat in stack mode, the in-process loop in embedded mode).

Locks are taken in one order everywhere: the cart, then the goods (id order), then cart lines.
"""

from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from shop.catalog.models import Goods
from shop.catalog.services.stock import goods_lock, insufficient_stock, stock_reserved_set
from shop.core.db_store import db_now
from shop.orders.models import Cart, CartItem


def holds_on() -> bool:
    return bool(settings.CART_RESERVATION_SECONDS > 0)


def _live_holds(goods_ids: Collection[int], except_cart: Cart | None) -> dict[int, int]:
    live = CartItem.objects.filter(goods_id__in=goods_ids, held__gt=0, held_until__gt=db_now())
    if except_cart is not None:
        live = live.exclude(cart=except_cart)
    held = dict(
        live.order_by().values("goods_id").annotate(units=Sum("held")).values_list("goods_id", "units")
    )
    return {goods_id: held.get(goods_id, 0) for goods_id in goods_ids}


def holds_refresh(*, goods_ids: Collection[int], except_cart: Cart | None = None) -> dict[int, int]:
    """Recompute ``reserved`` of these goods from the live holds (but those of ``except_cart``: a
    checkout converting its own, whose lines it then deletes), inside the caller's transaction,
    which holds the goods locked. Goods id -> units held, for every goods given."""
    reserved = _live_holds(goods_ids, except_cart)
    stock_reserved_set(reserved=reserved)
    return reserved


def hold_set(*, cart: Cart, goods_id: int) -> CartItem | None:
    """Make the cart's line of this goods hold its quantity for CART_RESERVATION_SECONDS from
    now (no hold for an untracked goods, or a line no longer there); 409 insufficient_stock, and
    nothing held, when fewer units are available to this cart. Inside the caller's transaction,
    which holds the cart locked."""
    goods_lock(goods_ids=[goods_id])
    item = CartItem.objects.filter(cart=cart, goods_id=goods_id).first()
    stock = Goods.objects.filter(pk=goods_id).values_list("stock", flat=True).first()
    if item is None or stock is None:
        return item
    others = _live_holds([goods_id], cart)[goods_id]
    available = max(stock - others, 0)
    if item.quantity > available:
        raise insufficient_stock({goods_id: available})
    item.held, item.held_until = (
        item.quantity,
        db_now() + timedelta(seconds=settings.CART_RESERVATION_SECONDS),
    )
    item.save(update_fields=["held", "held_until"])
    holds_refresh(goods_ids=[goods_id])
    return item


@transaction.atomic
def holds_expire() -> int:
    """Clear the holds past their time and recompute their goods' ``reserved``: how many lines."""
    now = db_now()
    expired = CartItem.objects.filter(held__gt=0, held_until__lte=now)
    goods_ids = sorted(set(expired.values_list("goods_id", flat=True)))
    if not goods_ids:
        return 0
    goods_lock(goods_ids=goods_ids)
    cleared = expired.filter(goods_id__in=goods_ids).update(held=0, held_until=None)
    holds_refresh(goods_ids=goods_ids)
    return cleared
