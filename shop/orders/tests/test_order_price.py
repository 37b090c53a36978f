"""The one pricing step (shop.orders.order_price): the quote and the order come to the same sums."""

from decimal import Decimal
from typing import Any

import pytest

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.catalog.selectors import OrderableGoods
from shop.catalog.services.prices import prices_record
from shop.currency.models import Currency
from shop.domain.money import format_amount
from shop.orders.models import Order
from shop.orders.order_price import order_price
from shop.orders.selectors import cart_quote
from shop.orders.services.cart import cart_add_item, cart_checkout
from shop.orders.services.orders import order_create
from shop.tests.factories import CurrencyFactory, GoodsFactory

D = Decimal
HUNDRED = OrderableGoods(id=1, name="Hundred", price_id=11, price=D("100.00"))
TEN = OrderableGoods(id=2, name="Ten", price_id=12, price=D("10.75"))


def test_order_price_prices_the_orderable_lines_in_the_order_asked() -> None:
    # when: goods 2, 1 and 9, of which 9 cannot be ordered
    priced = order_price(items={2: 3, 1: 1, 9: 4}, goods={1: HUNDRED, 2: TEN}, rate=D("0.92"), decimals=2)
    # then: (100 + 32.25) × 1.3 + 10.10 = 182.025; × 0.92 = 167.463 → 167.46
    assert [(line.goods, line.quantity, line.line_total) for line in priced.lines] == [
        (TEN, 3, D("32.25")),
        (HUNDRED, 1, D("100.00")),
    ]
    assert 9 not in {line.goods.id for line in priced.lines}  # left out of the lines and the sums
    assert (priced.sums.subtotal, priced.sums.total, priced.sums.order_sum) == (
        D("132.25"),
        D("182.025"),
        D("167.46"),
    )


def test_order_price_of_nothing_is_the_fee() -> None:
    priced = order_price(items={9: 1}, goods={}, rate=D("157.67483296"), decimals=0)
    assert (priced.lines, priced.sums.order_sum) == ([], D("1593"))


def test_order_price_takes_markup_and_fee_from_the_settings(settings: Any) -> None:
    settings.ORDER_MARKUP_PERCENT, settings.ORDER_FIXED_FEE = D(0), D(0)
    priced = order_price(items={1: 2}, goods={1: HUNDRED}, rate=D(1), decimals=2)
    assert priced.sums.order_sum == D("200.00")


@pytest.fixture
def priced_goods(usd: Any) -> list[Goods]:
    CurrencyFactory(code="EUR", rate="0.92")
    CurrencyFactory(code="JPY", decimals=0, rate="157.67483296")
    cent = GoodsFactory(name="Cent", price="0.01")
    return [GoodsFactory(name="Hundred", price="100.00"), GoodsFactory(name="Ten", price="10.75"), cent]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["USD", "EUR", "JPY"])
def test_the_quote_costs_what_the_order_placed_at_the_same_prices_and_rate_costs(
    shopper_user: User, priced_goods: list[Goods], code: str
) -> None:
    # given: a cart at prices that moved since the goods were added
    for goods, quantity in zip(priced_goods, (3, 7, 1), strict=True):
        cart_add_item(user=shopper_user, goods_id=goods.id, quantity=quantity)
    prices_record(amounts={priced_goods[1].id: D("11.05")}, source="manual")
    currency = Currency.objects.get(code=code)
    # when: the cart is quoted, checked out, and the same lines ordered directly
    quote = cart_quote(user=shopper_user, currency=currency)
    items = [(line.goods.id, line.quantity) for line in quote.lines]
    checked_out = cart_checkout(user=shopper_user, currency_code=code).order
    direct = order_create(user=shopper_user, currency_code=code, items=items).order
    # then: the same lines and parts, the same order_sum to the last digit of the currency
    for placed in (checked_out, direct):
        stored = Order.objects.get(pk=placed.pk)
        assert stored.rate_id == quote.rate.id
        assert [(line.goods_id, line.unit_price, line.quantity) for line in stored.items.all()] == sorted(
            (line.goods.id, line.unit_price, line.quantity) for line in quote.lines
        )
        assert (stored.subtotal, stored.markup, stored.fee, stored.total) == (
            quote.sums.subtotal,
            quote.sums.markup,
            quote.sums.fee,
            quote.sums.total,
        )
        assert stored.order_sum == quote.sums.order_sum
        assert format_amount(stored.order_sum, currency.decimals) == format_amount(
            quote.sums.order_sum, currency.decimals
        )
