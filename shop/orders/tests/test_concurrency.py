"""The consistency invariant and idempotency under real concurrency (SPEC §4)."""

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.catalog.models import Goods, Price, Sale
from shop.catalog.services.sales import sale_reprice
from shop.catalog.services.ticks import tick_run
from shop.currency.services import rate_create
from shop.orders.models import Order, OrderLine
from shop.orders.services.orders import order_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory
from shop.tests.invariant import order_invariant_violations
from shop.tests.live import closing

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS, SECONDS = 8, 6.0


def repeat_until(stop: threading.Event, every: float, action: Callable[[], object]) -> Callable[[], int]:
    def loop() -> int:
        count = 0
        while not stop.is_set():
            action()
            count += 1
            time.sleep(every)
        return count

    return closing(loop)


def test_invariant_holds_while_prices_and_rates_move(usd: Any) -> None:
    # given: goods in a running sale, a currency whose rate moves too
    CurrencyFactory(code="EUR", rate="0.92")
    goods = [GoodsFactory(price="10.00") for _ in range(6)]
    sale = SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("99.99"))
    users = [UserFactory() for _ in range(CLIENTS)]
    stop = threading.Event()

    deadline = time.monotonic() + SECONDS

    def place(user_index: int) -> int:
        rng, placed = random.Random(user_index), 0
        while time.monotonic() < deadline:
            order_create(
                user=users[user_index],
                currency_code=rng.choice(["USD", "EUR"]),
                items=[(g.id, rng.randint(1, 5)) for g in rng.sample(goods, 3)],
            )
            placed += 1
        return placed

    # when: orders from 8 clients while prices are regenerated every 200 ms, ticks run and rates change
    with ThreadPoolExecutor(CLIENTS + 3) as pool:
        movers = [
            pool.submit(
                repeat_until(
                    stop, 0.2, lambda: sale_reprice(sale=Sale.objects.get(pk=sale.pk), source="on_demand")
                )
            ),
            pool.submit(repeat_until(stop, 0.3, lambda: tick_run(slot=time.monotonic_ns()))),
            pool.submit(
                repeat_until(
                    stop,
                    0.25,
                    lambda: rate_create(
                        currency_code="EUR", rate=Decimal(random.randint(80, 99)) / 100, source="manual"
                    ),
                )
            ),
        ]
        placed = sum(pool.map(closing(place), range(CLIENTS)))
        stop.set()
        moves = [mover.result() for mover in movers]
    # then: every line holds the newest price at its order's moment, every order the newest rate
    assert placed == Order.objects.count() >= 100
    assert OrderLine.objects.count() == placed * 3
    assert min(moves) >= 5, f"prices and rates barely moved: {moves}"
    assert Price.objects.values("created_at").distinct().count() > 10
    assert order_invariant_violations() == (0, 0)
    print(f"invariant held over {placed} orders, {placed * 3} lines; price/tick/rate moves {moves}")


def test_invariant_check_sees_a_violation(usd: Any) -> None:
    # the check itself can fail: a line pointing at an older price is reported
    goods = GoodsFactory(price="1.00")
    old_price = goods.current_price_id
    order = order_create(user=UserFactory(), currency_code="USD", items=[(goods.id, 1)]).order
    assert order_invariant_violations() == (0, 0)
    from shop.catalog.services.prices import prices_of_batch, prices_record

    newer = prices_of_batch(prices_record(amounts={goods.id: Decimal("2.00")}, source="manual"))[0]
    OrderLine.objects.filter(order=order).update(price_id=newer.id)
    assert order_invariant_violations() == (1, 0)
    OrderLine.objects.filter(order=order).update(price_id=old_price)
    assert order_invariant_violations() == (0, 0)


def test_twenty_concurrent_requests_with_one_key_make_one_order(usd: Any) -> None:
    goods = GoodsFactory(price="5.00")
    user = UserFactory()
    body = {"items": [{"goods": goods.id, "quantity": 1}]}

    def post(_: int) -> tuple[int, int]:
        client = APIClient()
        client.force_authenticate(user)
        response = client.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(closing(post), range(20)))
    assert {status for status, _ in answers} == {201}
    assert len({order_id for _, order_id in answers}) == 1
    assert Order.objects.count() == 1


def test_two_checkouts_of_one_cart_order_it_once(usd: Any) -> None:
    goods = GoodsFactory(price="5.00")
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    client.post("/api/cart/items/", {"goods": goods.id, "quantity": 2}, format="json")

    def checkout(_: int) -> int:
        other = APIClient()
        other.force_authenticate(user)
        return other.post("/api/cart/checkout/", {}, format="json").status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(closing(checkout), range(6)))
    assert statuses == [201] + [400] * 5
    assert Order.objects.count() == 1
    assert Goods.objects.count() == 1
