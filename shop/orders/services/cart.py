"""The shopper's server-side cart (SPEC §4)."""

from decimal import Decimal
from typing import cast

from django.db import transaction
from django.db.models import F

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.core.errors import NotFound, ValidationError
from shop.currency.selectors import currency_active_get
from shop.orders.models import MAX_ORDER_LINES, MAX_QUANTITY, Cart, CartItem, Order
from shop.orders.services.orders import (
    GOODS_UNAVAILABLE,
    QUANTITY_RANGE,
    TOO_MANY_LINES,
    PlacedOrder,
    place,
    place_once,
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
    goods = Goods.objects.filter(id=goods_id, is_active=True, price__isnull=False).first()
    if goods is None:
        raise ValidationError(GOODS_UNAVAILABLE, code="goods_unavailable", goods=[goods_id])
    cart = _cart_locked(user)
    item = CartItem.objects.filter(cart=cart, goods=goods).first()
    total = quantity + (item.quantity if item else 0)
    if not 1 <= total <= MAX_QUANTITY:
        raise ValidationError(QUANTITY_RANGE, code="quantity_range")
    if item is None:
        if CartItem.objects.filter(cart=cart).count() >= MAX_ORDER_LINES:  # else it could not be ordered
            raise ValidationError(TOO_MANY_LINES, code="too_many_lines")
        return CartItem.objects.create(
            cart=cart, goods=goods, quantity=quantity, added_price=cast(Decimal, goods.price)
        )
    CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
    item.refresh_from_db()
    return item


@transaction.atomic
def cart_set_quantity(*, user: User, goods_id: int, quantity: int) -> CartItem:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError(QUANTITY_RANGE, code="quantity_range")
    cart = _cart_locked(user)
    updated = CartItem.objects.filter(cart=cart, goods_id=goods_id).update(quantity=quantity)
    if not updated:
        raise NotFound(NOT_IN_CART)
    return CartItem.objects.get(cart=cart, goods_id=goods_id)


@transaction.atomic
def cart_remove_item(*, user: User, goods_id: int) -> None:
    deleted, _ = CartItem.objects.filter(cart__user=user, goods_id=goods_id).delete()
    if not deleted:
        raise NotFound(NOT_IN_CART)


@transaction.atomic
def cart_clear(*, user: User) -> None:
    CartItem.objects.filter(cart__user=user).delete()


def cart_checkout(
    *,
    user: User,
    currency_code: str,
    max_order_sum: Decimal | None = None,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    """Order the cart's contents and empty it, in one transaction."""
    currency = currency_active_get(code=currency_code)

    def checkout() -> Order:
        cart = _cart_locked(user)  # two checkouts of one cart cannot both order it
        items = dict(CartItem.objects.filter(cart=cart).values_list("goods_id", "quantity"))
        if not items:
            raise ValidationError(CART_EMPTY, code="cart_empty")
        order = place(user=user, currency_code=currency.code, items=items, max_order_sum=max_order_sum)
        CartItem.objects.filter(cart=cart).delete()
        return order

    return place_once(
        user=user,
        idempotency_key=idempotency_key,
        request={"checkout": True, "currency": currency.code, "max": max_order_sum},
        place=checkout,
    )
