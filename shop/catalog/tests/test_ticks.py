import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.db.utils import DatabaseError

from shop.catalog.models import Goods, Price, Tick
from shop.catalog.services.ticks import TICK_LOCK, tick_run
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


def test_tick_reprices_every_active_goods_of_running_sales(usd: Any) -> None:
    # given
    a, b = GoodsFactory(price="1.00"), GoodsFactory(price="1.00")
    inactive, outside = GoodsFactory(price="1.00", is_active=False), GoodsFactory(price="1.00")
    cheap = SaleFactory(goods=[a, inactive], min_price=Decimal("2.00"), max_price=Decimal("3.00"))
    dear = SaleFactory(goods=[b], min_price=Decimal("50.00"), max_price=Decimal("60.00"))
    idle = GoodsFactory(price="1.00")
    SaleFactory(goods=[idle], is_active=False)
    # when: the injected random source always picks the upper bound
    result = tick_run(slot=1, randint=lambda low, high: high)
    # then
    assert (result.status, result.goods_count) == ("done", 2)
    ticked = {p.goods_id: p for p in Price.objects.filter(source="tick")}
    assert set(ticked) == {a.id, b.id}
    assert (ticked[a.id].amount, ticked[a.id].sale_id) == (Decimal("3.00"), cheap.id)
    assert (ticked[b.id].amount, ticked[b.id].sale_id) == (Decimal("60.00"), dear.id)
    a.refresh_from_db()
    assert (a.price, a.current_price_id, a.price_updated_at) == (
        Decimal("3.00"),
        ticked[a.id].id,
        ticked[a.id].created_at,
    )
    for untouched in (inactive, outside, idle):
        assert Price.objects.filter(goods=untouched).count() == 1


def test_one_tick_per_slot(usd: Any) -> None:
    SaleFactory(goods=[GoodsFactory(price="1.00")])
    assert tick_run(slot=7).status == "done"
    assert tick_run(slot=7).status == "duplicate"
    assert tick_run(slot=8).status == "done"
    assert Price.objects.filter(source="tick").count() == 2
    assert list(Tick.objects.values_list("slot", flat=True)) == [8, 7]


@pytest.mark.django_db(transaction=True)
def test_tick_is_skipped_while_another_runs(usd: Any) -> None:
    # given: another process holds the tick lock (as a running tick does)
    SaleFactory(goods=[GoodsFactory(price="1.00")])
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TICK_LOCK])
            held.set()
            release.wait(10)
            cursor.execute("COMMIT")
        connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        # when / then
        assert tick_run(slot=3).status == "busy"
        assert not Tick.objects.filter(slot=3).exists()
    finally:
        release.set()
        thread.join()
    assert tick_run(slot=3).status == "done"


@pytest.mark.django_db(transaction=True)
def test_a_failing_tick_leaves_nothing_behind(usd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the prices are written, then the tick fails before it commits
    goods = [GoodsFactory(price="1.00") for _ in range(3)]
    SaleFactory(goods=goods)
    before = Price.objects.count()

    save = Tick.save

    def fail(tick: Tick, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("update_fields"):  # the slot row, written first
            return save(tick, *args, **kwargs)
        assert Price.objects.count() == before + 3  # the prices: written, not committed
        raise DatabaseError("disk full")

    monkeypatch.setattr(Tick, "save", fail)
    # when
    with pytest.raises(DatabaseError):
        tick_run(slot=11)
    monkeypatch.undo()
    # then: none of it is there, and the slot can still tick
    assert Price.objects.count() == before
    assert not Tick.objects.filter(slot=11).exists()
    assert [g.price for g in Goods.objects.order_by("id")] == [Decimal("1.00")] * 3
    assert tick_run(slot=11).status == "done"
