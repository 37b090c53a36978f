"""The shopper's server-side cart (SPEC §4)."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from shop.accounts.models import User
from shop.catalog.selectors import goods_orderable_get
from shop.catalog.services.stock import goods_lock
from shop.core.errors import NotFound, ValidationError
from shop.currency.selectors import currency_active_get
from shop.domain.orders import MAX_ORDER_LINES
from shop.orders.errors import OrderErrorCode
from shop.orders.models import Cart, CartItem
from shop.orders.services.holds import hold_set, holds_on, holds_refresh
from shop.orders.services.idempotency import idempotency_bind, idempotency_claim, idempotency_key_clean
from shop.orders.services.orders import (
    TOO_MANY_LINES,
    PlacedOrder,
    goods_unavailable,
    order_place,
    quantity_check,
)

CART_EMPTY = "The cart is empty; add goods before checking out."
NOT_IN_CART = "This goods is not in the cart."


def _cart_locked(user: User) -> Cart:
    """The user's cart, locked for this transaction (created on first use)."""
    cart, _ = Cart.objects.get_or_create(user=user)
    return Cart.objects.select_for_update().get(pk=cart.pk)


@transaction.atomic
def cart_add_item(*, user: User, goods_id: int, quantity: int) -> CartItem:
    """Add ``quantity`` of a goods; a goods already in the cart gets its quantity raised."""
    goods = goods_orderable_get(goods_ids=[goods_id]).get(goods_id)
    if goods is None:
        raise goods_unavailable([goods_id])
    cart = _cart_locked(user)
    item = CartItem.objects.filter(cart=cart, goods_id=goods_id).first()
    quantity_check(quantity + (item.quantity if item else 0))
    if item is None:
        if CartItem.objects.filter(cart=cart).count() >= MAX_ORDER_LINES:  # else it could not be ordered
            raise ValidationError(TOO_MANY_LINES, code=OrderErrorCode.TOO_MANY_LINES)
        item = CartItem.objects.create(
            cart=cart, goods_id=goods_id, quantity=quantity, added_price=goods.price
        )
    else:
        CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
    return _held(cart, goods_id)


def _held(cart: Cart, goods_id: int) -> CartItem:
    """The cart's line of this goods, holding its units when reservations are on (SPEC §13)."""
    if holds_on():
        hold_set(cart=cart, goods_id=goods_id)
    return CartItem.objects.get(cart=cart, goods_id=goods_id)


@transaction.atomic
def cart_set_quantity(*, user: User, goods_id: int, quantity: int) -> CartItem:
    quantity_check(quantity)
    cart = _cart_locked(user)
    updated = CartItem.objects.filter(cart=cart, goods_id=goods_id).update(quantity=quantity)
    if not updated:
        raise NotFound(NOT_IN_CART)
    return _held(cart, goods_id)


def _lines_delete(cart: Cart, goods_ids: list[int] | None = None) -> int:
    """Delete the cart's lines (of ``goods_ids``, or all), giving back what they held."""
    lines = CartItem.objects.filter(cart=cart)
    if goods_ids is not None:
        lines = lines.filter(goods_id__in=goods_ids)
    held = sorted(set(lines.filter(held__gt=0).values_list("goods_id", flat=True)))
    if held:
        goods_lock(goods_ids=held)  # goods before cart lines, as every holder locks them
    deleted, _ = lines.delete()
    if held:
        holds_refresh(goods_ids=held)
    return deleted


@transaction.atomic
def cart_remove_item(*, user: User, goods_id: int) -> None:
    if not _lines_delete(_cart_locked(user), [goods_id]):
        raise NotFound(NOT_IN_CART)


@transaction.atomic
def cart_clear(*, user: User) -> None:
    _lines_delete(_cart_locked(user))


def cart_checkout(
    *,
    user: User,
    currency_code: str,
    max_order_sum: Decimal | None = None,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    """Order the cart's contents and empty it, in one transaction, at most once per
    (user, Idempotency-Key)."""
    currency = currency_active_get(code=currency_code)
    key = idempotency_key_clean(idempotency_key)
    request = {"checkout": True, "currency": currency.code, "max": max_order_sum}
    with transaction.atomic():
        earlier = idempotency_claim(user=user, key=key, request=request)
        if earlier is not None:
            return PlacedOrder(order=earlier, replayed=True)
        cart = _cart_locked(user)  # two checkouts of one cart cannot both order it
        items = dict(CartItem.objects.filter(cart=cart).values_list("goods_id", "quantity"))
        if not items:
            raise ValidationError(CART_EMPTY, code=OrderErrorCode.CART_EMPTY)
        order = order_place(
            user=user, currency_code=currency.code, items=items, max_order_sum=max_order_sum, cart=cart
        )
        CartItem.objects.filter(cart=cart).delete()  # its holds were converted by the order
        idempotency_bind(user=user, key=key, order=order)
    return PlacedOrder(order=order, replayed=False)
