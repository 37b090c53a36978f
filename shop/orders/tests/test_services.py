"""Orders services, function by function (scenario tests are in test_api.py and
test_concurrency.py)."""

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from pytest_django import DjangoAssertNumQueries

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.core.errors import Conflict, NotFound, Unprocessable, ValidationError
from shop.currency.models import ExchangeRate
from shop.domain.orders import MAX_ORDER_LINES, MAX_QUANTITY
from shop.orders.errors import OrderErrorCode
from shop.orders.models import CartItem, IdempotencyKey, Order, OrderLine
from shop.orders.services.cart import (
    CART_EMPTY,
    NOT_IN_CART,
    cart_add_item,
    cart_checkout,
    cart_clear,
    cart_remove_item,
    cart_set_quantity,
)
from shop.orders.services.idempotency import (
    IDEMPOTENCY_KEY_INVALID,
    IDEMPOTENCY_KEY_REUSED,
    idempotency_bind,
    idempotency_claim,
    idempotency_key_clean,
)
from shop.orders.services.orders import (
    GOODS_UNAVAILABLE,
    NO_ITEMS,
    ORDER_SUM_TOO_HIGH,
    QUANTITY_RANGE,
    TOO_MANY_LINES,
    merge_items,
    order_create,
    order_place,
    quantity_check,
)
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

D = Decimal


@pytest.fixture
def goods(usd: Any) -> dict[str, Goods]:
    CurrencyFactory(code="EUR", rate="0.92")
    return {
        "hundred": GoodsFactory(name="Hundred", price="100.00"),
        "ten": GoodsFactory(name="Ten", price="10.75"),
    }


def nothing_written() -> bool:
    return not (Order.objects.exists() or OrderLine.objects.exists() or IdempotencyKey.objects.exists())


def test_the_error_codes_are_the_wire_values() -> None:
    # Clients match on these strings: a member may be renamed, its value may not change.
    assert [str(code) for code in OrderErrorCode] == [
        "no_items",
        "too_many_lines",
        "quantity_range",
        "goods_unavailable",
        "order_sum_too_high",
        "cart_empty",
        "invalid_idempotency_key",
        "idempotency_key_reused",
        "invalid_transition",
        "cancel_window_passed",
        "payment_method",
        "payment_reference",
    ]


# --- merge_items, quantity_check -------------------------------------------------------


def test_merge_items_merges_the_same_goods() -> None:
    assert merge_items([(2, 1), (1, 4), (2, 3)]) == {2: 4, 1: 4}


@pytest.mark.parametrize(
    ("items", "message", "code"),
    [
        ([], NO_ITEMS, OrderErrorCode.NO_ITEMS),
        ([(g, 1) for g in range(MAX_ORDER_LINES + 1)], TOO_MANY_LINES, OrderErrorCode.TOO_MANY_LINES),
        ([(1, 600), (1, 401)], QUANTITY_RANGE, OrderErrorCode.QUANTITY_RANGE),
        ([(1, 0)], QUANTITY_RANGE, OrderErrorCode.QUANTITY_RANGE),
    ],
)
def test_merge_items_refuses(items: list[tuple[int, int]], message: str, code: OrderErrorCode) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as raised:
        merge_items(items)
    assert raised.value.code == code


def test_quantity_check() -> None:
    quantity_check(1)
    quantity_check(MAX_QUANTITY)
    for wrong in (0, MAX_QUANTITY + 1):
        with pytest.raises(ValidationError, match=re.escape(QUANTITY_RANGE)):
            quantity_check(wrong)


# --- order_place: the write -------------------------------------------------------------


@pytest.mark.django_db
def test_order_place_freezes_the_current_prices_and_rate(
    shopper_user: User, goods: dict[str, Goods], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    hundred, ten = goods["hundred"], goods["ten"]
    # when
    with transaction.atomic():
        order = order_place(
            user=shopper_user, currency_code="EUR", items={ten.id: 2, hundred.id: 1}, max_order_sum=None
        )
    # then: lines in goods order, each with its current price row; the rate active now
    stored = Order.objects.get(pk=order.pk)
    assert stored.rate_id == ExchangeRate.objects.filter(currency="EUR").latest("valid_from").id
    assert [
        (line.goods_id, line.price_id, line.unit_price, line.line_total) for line in stored.items.all()
    ] == [
        (hundred.id, hundred.current_price_id, D("100.00"), D("100.00")),
        (ten.id, ten.current_price_id, D("10.75"), D("21.50")),
    ]
    assert stored.order_sum == D("154.61")  # (121.50 × 1.3 + 10.10) × 0.92 = 154.606
    with django_assert_num_queries(0):  # attached: showing it reads no row
        shown = order.lines
    assert shown == list(stored.items.all())


@pytest.mark.django_db
def test_order_place_refuses_goods_that_cannot_be_ordered(
    shopper_user: User, goods: dict[str, Goods]
) -> None:
    inactive = GoodsFactory(price="1.00", is_active=False)
    with pytest.raises(ValidationError, match=re.escape(GOODS_UNAVAILABLE)) as raised:
        order_place(
            user=shopper_user,
            currency_code="EUR",
            items={goods["ten"].id: 1, inactive.id: 1, 999_999: 1},
            max_order_sum=None,
        )
    assert raised.value.code == OrderErrorCode.GOODS_UNAVAILABLE
    assert raised.value.extra == {"goods": [inactive.id, 999_999]}
    assert nothing_written()


@pytest.mark.django_db
def test_order_place_refuses_an_order_sum_above_the_limit(
    shopper_user: User, goods: dict[str, Goods]
) -> None:
    with pytest.raises(Conflict, match=re.escape(ORDER_SUM_TOO_HIGH)) as raised:
        order_place(
            user=shopper_user, currency_code="EUR", items={goods["hundred"].id: 1}, max_order_sum=D("128.88")
        )
    assert (raised.value.code, raised.value.extra) == (
        OrderErrorCode.ORDER_SUM_TOO_HIGH,
        {"order_sum": "128.89"},
    )
    assert nothing_written()


# --- order_create and idempotency -------------------------------------------------------


@pytest.mark.django_db
def test_order_create_with_a_key_places_once(shopper_user: User, goods: dict[str, Goods]) -> None:
    items = [(goods["ten"].id, 1)]
    first = order_create(user=shopper_user, currency_code="EUR", items=items, idempotency_key="k")
    again = order_create(user=shopper_user, currency_code="EUR", items=items, idempotency_key="k")
    assert (first.replayed, again.replayed, again.order.pk) == (False, True, first.order.pk)
    with pytest.raises(Unprocessable, match=re.escape(IDEMPOTENCY_KEY_REUSED)):
        order_create(user=shopper_user, currency_code="USD", items=items, idempotency_key="k")
    assert Order.objects.count() == 1


def test_idempotency_key_clean() -> None:
    assert (idempotency_key_clean(None), idempotency_key_clean(""), idempotency_key_clean("k 1")) == (
        None,
        None,
        "k 1",
    )
    for wrong in ("é", "a\n", "x" * 256):
        with pytest.raises(ValidationError, match=re.escape(IDEMPOTENCY_KEY_INVALID)) as raised:
            idempotency_key_clean(wrong)
        assert raised.value.code == OrderErrorCode.INVALID_IDEMPOTENCY_KEY


@pytest.mark.django_db
def test_idempotency_claim_and_bind(shopper_user: User, goods: dict[str, Goods]) -> None:
    # without a key: nothing claimed, nothing bound
    assert idempotency_claim(user=shopper_user, key=None, request={}) is None
    assert not IdempotencyKey.objects.exists()
    # a new key is claimed, then bound to the order; the same request then finds that order
    with transaction.atomic():
        assert idempotency_claim(user=shopper_user, key="k", request={"a": 1}) is None
        order = order_place(
            user=shopper_user, currency_code="USD", items={goods["ten"].id: 1}, max_order_sum=None
        )
        idempotency_bind(user=shopper_user, key="k", order=order)
    assert idempotency_claim(user=shopper_user, key="k", request={"a": 1}) == order
    with pytest.raises(Unprocessable):
        idempotency_claim(user=shopper_user, key="k", request={"a": 2})


# --- cart -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_cart_add_item_adds_and_raises_the_quantity(shopper_user: User, goods: dict[str, Goods]) -> None:
    ten = goods["ten"]
    added = cart_add_item(user=shopper_user, goods_id=ten.id, quantity=2)
    assert (added.goods_id, added.quantity, added.added_price) == (ten.id, 2, D("10.75"))
    assert cart_add_item(user=shopper_user, goods_id=ten.id, quantity=3).quantity == 5
    with pytest.raises(ValidationError, match=re.escape(QUANTITY_RANGE)):
        cart_add_item(user=shopper_user, goods_id=ten.id, quantity=MAX_QUANTITY - 4)
    assert CartItem.objects.get().quantity == 5


@pytest.mark.django_db
def test_cart_add_item_refuses_goods_that_cannot_be_ordered(shopper_user: User, usd: Any) -> None:
    unpriced = GoodsFactory()
    with pytest.raises(ValidationError, match=re.escape(GOODS_UNAVAILABLE)) as raised:
        cart_add_item(user=shopper_user, goods_id=unpriced.id, quantity=1)
    assert raised.value.extra == {"goods": [unpriced.id]}
    assert not CartItem.objects.exists()


@pytest.mark.django_db
def test_cart_set_quantity_remove_and_clear(shopper_user: User, goods: dict[str, Goods]) -> None:
    hundred, ten = goods["hundred"], goods["ten"]
    cart_add_item(user=shopper_user, goods_id=ten.id, quantity=1)
    assert cart_set_quantity(user=shopper_user, goods_id=ten.id, quantity=7).quantity == 7
    with pytest.raises(ValidationError, match=re.escape(QUANTITY_RANGE)):
        cart_set_quantity(user=shopper_user, goods_id=ten.id, quantity=0)
    with pytest.raises(NotFound, match=re.escape(NOT_IN_CART)):
        cart_set_quantity(user=shopper_user, goods_id=hundred.id, quantity=1)
    with pytest.raises(NotFound, match=re.escape(NOT_IN_CART)):
        cart_remove_item(user=shopper_user, goods_id=hundred.id)
    cart_remove_item(user=shopper_user, goods_id=ten.id)
    assert not CartItem.objects.exists()
    cart_add_item(user=shopper_user, goods_id=ten.id, quantity=1)
    cart_add_item(user=shopper_user, goods_id=hundred.id, quantity=1)
    cart_clear(user=shopper_user)
    assert not CartItem.objects.exists()


@pytest.mark.django_db
def test_cart_checkout_orders_the_cart_and_empties_it(shopper_user: User, goods: dict[str, Goods]) -> None:
    # given: the shopper's cart and someone else's
    cart_add_item(user=shopper_user, goods_id=goods["hundred"].id, quantity=1)
    cart_add_item(user=UserFactory(), goods_id=goods["ten"].id, quantity=1)
    # when
    placed = cart_checkout(user=shopper_user, currency_code="EUR", idempotency_key="c")
    # then
    assert not placed.replayed
    assert [(line.goods_id, line.quantity) for line in placed.order.items.all()] == [(goods["hundred"].id, 1)]
    assert placed.order.order_sum == D("128.89")
    assert CartItem.objects.count() == 1  # the other shopper's
    replayed = cart_checkout(user=shopper_user, currency_code="EUR", idempotency_key="c")
    assert (replayed.replayed, replayed.order.pk) == (True, placed.order.pk)
    with pytest.raises(ValidationError, match=re.escape(CART_EMPTY)) as raised:
        cart_checkout(user=shopper_user, currency_code="EUR")
    assert raised.value.code == OrderErrorCode.CART_EMPTY


@pytest.mark.django_db
def test_a_refused_checkout_keeps_the_cart(shopper_user: User, goods: dict[str, Goods]) -> None:
    cart_add_item(user=shopper_user, goods_id=goods["hundred"].id, quantity=1)
    with pytest.raises(Conflict):
        cart_checkout(user=shopper_user, currency_code="EUR", max_order_sum=D("1"), idempotency_key="c")
    assert CartItem.objects.count() == 1
    assert nothing_written()


@pytest.mark.django_db
def test_a_placed_order_is_what_the_database_holds_field_for_field(
    shopper_user: User, goods: dict[str, Goods]
) -> None:
    """The store writes every column of Order and OrderLine (its INSERT is generated from the
    models' fields), and what placement hands back is the rows as a read would load them."""
    hundred, ten = goods["hundred"], goods["ten"]
    # when
    with transaction.atomic():
        order = order_place(
            user=shopper_user, currency_code="EUR", items={ten.id: 3, hundred.id: 2}, max_order_sum=None
        )

    # then
    def fields(instance: Any) -> dict[str, Any]:
        return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}

    stored = Order.objects.get(pk=order.pk)
    assert fields(order) == fields(stored)
    assert [fields(line) for line in order.lines] == [fields(line) for line in stored.items.all()]
    assert order._state.adding is False
    assert order._state.db == stored._state.db
