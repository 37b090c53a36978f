"""Orders selectors, function by function (scenario tests are in test_api.py)."""

from decimal import Decimal
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.currency.models import Currency
from shop.orders.selectors import cart_items, cart_quote, order_list
from shop.orders.services.cart import cart_add_item
from shop.orders.services.orders import order_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def eur(usd: Any) -> Currency:
    return CurrencyFactory(code="EUR", rate="0.92")


def test_cart_quote_of_an_empty_cart_is_the_fee(shopper_user: User, eur: Currency) -> None:
    quote = cart_quote(user=shopper_user, currency=eur)
    assert (quote.lines, quote.unavailable, quote.sums.order_sum) == ([], [], D("9.29"))  # 10.10 × 0.92
    assert (quote.currency, quote.rate.rate) == (eur, D("0.92"))


def test_cart_quote_shows_lines_it_cannot_price_and_leaves_them_out(
    shopper_user: User, eur: Currency, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given: two lines, then one of the goods deactivated
    hundred, ten = GoodsFactory(price="100.00"), GoodsFactory(price="10.75")
    cart_add_item(user=shopper_user, goods_id=hundred.id, quantity=1)
    cart_add_item(user=shopper_user, goods_id=ten.id, quantity=2)
    Goods.objects.filter(pk=ten.pk).update(is_active=False)
    # when: the rate and the lines with their goods
    with django_assert_num_queries(2):
        quote = cart_quote(user=shopper_user, currency=eur)
    # then
    assert [(line.goods.id, line.unit_price, line.added_price, line.line_total) for line in quote.lines] == [
        (hundred.id, D("100.00"), D("100.00"), D("100.00")),
        (ten.id, None, D("10.75"), None),
    ]
    assert quote.unavailable == [ten.id]
    assert quote.sums.order_sum == D("128.89")  # the SPEC's worked example: hundred alone


def test_cart_items_are_the_users_own(shopper_user: User, usd: Any) -> None:
    goods = GoodsFactory(price="1.00")
    cart_add_item(user=shopper_user, goods_id=goods.id, quantity=2)
    cart_add_item(user=UserFactory(), goods_id=goods.id, quantity=5)
    assert [(item.goods, item.quantity) for item in cart_items(user=shopper_user)] == [(goods, 2)]


def test_order_list_is_the_users_own_newest_first_in_two_queries(
    shopper_user: User, usd: Any, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    goods = GoodsFactory(price="1.00")
    first = order_create(user=shopper_user, currency_code="USD", items=[(goods.id, 1)]).order
    second = order_create(user=shopper_user, currency_code="USD", items=[(goods.id, 2)]).order
    order_create(user=UserFactory(), currency_code="USD", items=[(goods.id, 3)])
    with django_assert_num_queries(3):  # orders with their currency; their lines; their events
        orders = [
            (o.id, o.currency.code, [line.quantity for line in o.items.all()])
            for o in order_list(user=shopper_user)
        ]
    assert orders == [(second.id, "USD", [2]), (first.id, "USD", [1])]
