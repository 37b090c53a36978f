"""The order's life under real concurrency (SPEC §13): a cancellation returns its units once."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections, transaction

from shop.catalog.models import Goods
from shop.core.errors import Conflict
from shop.orders.models import Order, OrderEvent
from shop.orders.services.lifecycle import Actor, order_cancel, order_pay
from shop.orders.services.orders import order_create
from shop.tests.factories import GoodsFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

RACERS = 8


def racing(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on threads of their own, released together; each result or its Conflict."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            start.wait(timeout=30)
            return call()
        except Conflict as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_cancels_return_the_units_exactly_once(usd: Any) -> None:
    # given: 3 of 10 units taken by one order
    goods = GoodsFactory(price="5.00")
    Goods.objects.filter(pk=goods.pk).update(stock=10)
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    placed = order_create(user=shopper, currency_code="USD", items=[(goods.pk, 3)]).order
    # when: the shopper and staff cancel it at once, many times over
    calls = [
        (lambda: order_cancel(order_id=placed.pk, actor=Actor.of(shopper), user=shopper))
        if i % 2
        else (lambda: order_cancel(order_id=placed.pk, actor=Actor.of(staff)))
        for i in range(RACERS)
    ]
    results = racing(calls)
    # then: one cancellation; the others see it cancelled; 3 units back, once
    cancelled = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(cancelled) == 1 and len(refused) == RACERS - 1
    assert {(c.code, c.extra["status"]) for c in refused} == {("invalid_transition", "cancelled")}
    assert Goods.objects.get(pk=goods.pk).stock == 10
    assert OrderEvent.objects.filter(order=placed).count() == 1


def test_payment_and_cancellation_racing_end_in_one_of_them(usd: Any) -> None:
    goods = GoodsFactory(price="5.00")
    Goods.objects.filter(pk=goods.pk).update(stock=4)
    shopper, staff = UserFactory(), UserFactory(is_staff=True)
    placed = order_create(user=shopper, currency_code="USD", items=[(goods.pk, 4)]).order
    results = racing(
        [
            lambda: order_pay(order_id=placed.pk, actor=Actor.of(staff), method="cash_on_delivery"),
            lambda: order_cancel(order_id=placed.pk, actor=Actor.of(shopper), user=shopper),
        ]
    )
    status = Order.objects.get(pk=placed.pk).status
    # either paid (the shopper's cancel then refused) or cancelled (the payment then refused)
    assert sum(isinstance(r, Order) for r in results) == 1
    assert (status, Goods.objects.get(pk=goods.pk).stock) in {("paid", 0), ("cancelled", 4)}


def test_an_order_waiting_while_staff_start_tracking_its_goods_takes_their_stock(usd: Any) -> None:
    # given: an untracked goods, and staff in the middle of starting to count it (row locked)
    goods = GoodsFactory(price="5.00")
    shopper = UserFactory()
    counting, release = threading.Event(), threading.Event()

    def staff_counts() -> None:
        try:
            with transaction.atomic():
                Goods.objects.filter(pk=goods.pk).update(stock=5)
                counting.set()
                release.wait(30)
        finally:
            connections.close_all()

    def shopper_orders() -> Order:
        try:
            return order_create(user=shopper, currency_code="USD", items=[(goods.pk, 2)]).order
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        staff = pool.submit(staff_counts)
        assert counting.wait(30)
        placing = pool.submit(shopper_orders)
        # when: the order waits for the goods' row (its shared lock), then staff commit
        deadline = time.monotonic() + 30
        while not waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert waiting_for_a_lock()
        release.set()
        staff.result(timeout=30)
        placed = placing.result(timeout=30)
    # then: the order saw the goods tracked and took its units
    assert [line.stock_taken for line in placed.lines] == [2]
    assert Goods.objects.get(pk=goods.pk).stock == 3


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])
