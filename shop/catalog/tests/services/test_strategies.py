"""Pricing strategies through the tick (SPEC §14), on PostgreSQL and SQLite: black-box paths."""

import itertools
from decimal import Decimal
from typing import Any

import pytest

from shop.catalog.models import Goods, Price, Sale
from shop.catalog.services.sales import sale_update
from shop.catalog.services.ticks import tick_run
from shop.domain.price_strategies import demand_next
from shop.orders.services.orders import order_create
from shop.tests.factories import GoodsFactory, SaleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # ticks write in transactions of their own

D = Decimal
slots = iter(range(10**6, 10**7))  # a fresh tick slot each time


def path(goods: Goods) -> list[Decimal]:
    """The goods' prices, oldest first."""
    return list(
        Price.objects.filter(goods=goods).order_by("created_at", "id").values_list("amount", flat=True)
    )


def test_a_walk_moves_at_most_its_step_a_tick_and_stays_in_bounds() -> None:
    goods = [GoodsFactory(price="50.00") for _ in range(20)]
    SaleFactory(goods=goods, min_price=D("40.00"), max_price=D("60.00"), strategy="walk", step_percent=D(2))
    for _ in range(10):
        assert tick_run(slot=next(slots)).status == "done"
    moved = 0
    for each in goods:
        prices = path(each)
        assert len(prices) == 11  # the first price and one a tick
        for before, after in itertools.pairwise(prices):
            assert abs(after - before) <= before * D("0.02") + D("0.01"), (before, after)
            assert D("40.00") <= after <= D("60.00")
            moved += after != before
    assert moved > 100  # it walks: most ticks move most prices


def test_a_walk_starts_from_a_uniform_draw_outside_its_bounds() -> None:
    goods = GoodsFactory(price="5.00")
    SaleFactory(goods=[goods], min_price=D("40.00"), max_price=D("60.00"), strategy="walk", step_percent=D(1))
    tick_run(slot=next(slots))
    assert D("40.00") <= Goods.objects.get(pk=goods.pk).price <= D("60.00")


def test_demand_raises_what_sells_and_lowers_what_does_not(usd: Any) -> None:
    bought, idle = GoodsFactory(price="50.00"), GoodsFactory(price="50.00")
    SaleFactory(
        goods=[bought, idle],
        min_price=D("10.00"),
        max_price=D("90.00"),
        strategy="demand",
        step_percent=D("3.5"),
        target_units=1,
        window_seconds=300,
    )
    shopper, sold = UserFactory(), 0
    for _ in range(3):
        before = {g.pk: Goods.objects.get(pk=g.pk).price for g in (bought, idle)}
        order_create(user=shopper, currency_code="USD", items=[(bought.pk, 5)])  # 5 units between ticks
        sold += 5
        tick_run(slot=next(slots))
        units = {bought.pk: sold, idle.pk: 0}  # all within the 300-second window
        for g in (bought, idle):
            expected = demand_next(
                before[g.pk], units[g.pk], target_units=1, step=D("0.035"), low=D("10.00"), high=D("90.00")
            )
            assert Goods.objects.get(pk=g.pk).price == expected
    # full pressure: up by 3.5 % a tick, rounded half up each time; no demand: down as much
    assert path(bought) == [D("50.00"), D("51.75"), D("53.56"), D("55.43")]
    assert path(idle) == [D("50.00"), D("48.25"), D("46.56"), D("44.93")]


def test_a_cancelled_order_is_no_demand(usd: Any) -> None:
    from shop.orders.services.lifecycle import SYSTEM, order_cancel

    goods = GoodsFactory(price="50.00")
    SaleFactory(
        goods=[goods], min_price=D("10.00"), max_price=D("90.00"), strategy="demand", step_percent=D(2)
    )
    order = order_create(user=UserFactory(), currency_code="USD", items=[(goods.pk, 9)]).order
    order_cancel(order_id=order.pk, actor=SYSTEM)
    tick_run(slot=next(slots))
    assert Goods.objects.get(pk=goods.pk).price == D("49.00")  # nothing sold: down 2 %


def test_a_changed_strategy_applies_from_the_next_tick() -> None:
    goods = GoodsFactory(price="50.00")
    sale = SaleFactory(goods=[goods], min_price=D("10.00"), max_price=D("90.00"))
    sale_update(sale=Sale.objects.get(pk=sale.pk), data={"strategy": "demand", "step_percent": D(10)})
    tick_run(slot=next(slots))
    assert Goods.objects.get(pk=goods.pk).price == D("45.00")  # no demand: down 10 %


def test_staff_choose_a_sale_s_strategy_through_the_api(staff: Any, shopper: Any, usd: Any) -> None:
    goods = GoodsFactory(price="50.00")
    body = {"name": "Walk", "min_price": "10.00", "max_price": "90.00", "goods": [goods.pk]}
    created = staff.post("/api/sales/", {**body, "strategy": "walk", "step_percent": "1.5"}, format="json")
    assert created.status_code == 201, created.json()
    sale = created.json()
    assert (sale["strategy"], sale["step_percent"], sale["window_seconds"], sale["target_units"]) == (
        "walk",
        "1.50",
        300,
        1,
    )
    changed = staff.patch(
        f"/api/sales/{sale['id']}/",
        {"strategy": "demand", "window_seconds": 60, "target_units": 4},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["strategy"] == "demand"
    assert Sale.objects.filter(pk=sale["id"], window_seconds=60, target_units=4).exists()
    for bad in (
        {"strategy": "random"},
        {"step_percent": "0"},
        {"step_percent": "50.01"},
        {"window_seconds": 0},
        {"target_units": -1},
    ):
        refused = staff.patch(f"/api/sales/{sale['id']}/", bad, format="json")
        assert refused.status_code == 400 and set(bad) <= set(refused.json()), (bad, refused.json())
    assert shopper.patch(f"/api/sales/{sale['id']}/", {"strategy": "walk"}, format="json").status_code == 403
    assert Sale.objects.get(pk=sale["id"]).strategy == "demand"
