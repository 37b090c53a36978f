"""The stock invariant check itself (SPEC §13): it holds through the services and sees a breach."""

from typing import Any

import pytest

from shop.catalog.models import Goods
from shop.catalog.services.stock import goods_stock_add
from shop.orders.models import Order, OrderLine
from shop.orders.services.lifecycle import SYSTEM, order_cancel
from shop.orders.services.orders import order_create
from shop.tests.factories import GoodsFactory, UserFactory
from shop.tests.invariant import stock_invariant_violations, stock_snapshot

pytestmark = pytest.mark.django_db(transaction=True)  # stock_snapshot opens its own transaction


def test_stock_invariant_holds_through_orders_adds_and_cancels(usd: Any) -> None:
    # given: two tracked goods (10 and 4 units) and an untracked one
    ten, four = GoodsFactory(price="1.00", stock=10), GoodsFactory(price="2.00", stock=4)
    untracked = GoodsFactory(price="3.00")
    supplied = {ten.id: 10, four.id: 4}
    user = UserFactory()
    assert stock_invariant_violations(supplied) == {}
    # when: orders take units, staff add some, one order is cancelled
    first = order_create(user=user, currency_code="USD", items=[(ten.id, 3), (four.id, 4), (untracked.id, 9)])
    order_create(user=user, currency_code="USD", items=[(ten.id, 2)])
    goods_stock_add(goods=four, add=5)
    supplied[four.id] += 5
    order_cancel(order_id=first.order.id, actor=SYSTEM)
    # then: what was supplied is in stock or in orders not cancelled, read in one snapshot
    with stock_snapshot():
        assert stock_invariant_violations(supplied) == {}
        assert Order.objects.filter(status=Order.Status.PLACED).count() == 1
    assert dict(Goods.objects.filter(id__in=supplied).values_list("id", "stock")) == {ten.id: 8, four.id: 9}


def test_stock_invariant_check_sees_a_breach(usd: Any) -> None:
    goods = GoodsFactory(price="1.00", stock=5)
    order = order_create(user=UserFactory(), currency_code="USD", items=[(goods.id, 2)]).order
    assert stock_invariant_violations({goods.id: 5}) == {}
    # units that vanished from stock, behind the services' back
    Goods.objects.filter(id=goods.id).update(stock=2)
    assert stock_invariant_violations({goods.id: 5}) == {goods.id: (5, 2, 2)}
    Goods.objects.filter(id=goods.id).update(stock=3)
    # an order cancelled without its units coming back
    Order.objects.filter(id=order.id).update(status=Order.Status.CANCELLED)
    assert stock_invariant_violations({goods.id: 5}) == {goods.id: (5, 3, 0)}
    # a line that says it took fewer units than it did
    Order.objects.filter(id=order.id).update(status=Order.Status.PLACED)
    OrderLine.objects.filter(order=order).update(stock_taken=1)
    assert stock_invariant_violations({goods.id: 5}) == {goods.id: (5, 3, 1)}
    # a goods no longer tracked, or unknown, breaks it too
    Goods.objects.filter(id=goods.id).update(stock=None)
    assert stock_invariant_violations({goods.id: 5, 0: 1}) == {goods.id: (5, None, 1), 0: (1, None, 0)}
