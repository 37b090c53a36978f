import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.db.utils import DatabaseError

from shop.catalog.models import Goods, Price, Tick
from shop.catalog.services import ticks
from shop.catalog.services.ticks import TICK_LOCK, tick_run
from shop.core import events
from shop.core.events import PriceEvent
from shop.tests.factories import GoodsFactory, SaleFactory

pytestmark = pytest.mark.django_db


def test_tick_reprices_every_active_goods_of_running_sales(usd: Any) -> None:
    # given
    a, b = GoodsFactory(price="1.00"), GoodsFactory(price="1.00")
    inactive, outside = GoodsFactory(price="1.00", is_active=False), GoodsFactory(price="1.00")
    cheap = SaleFactory(goods=[a, inactive], min_price=Decimal("2.00"), max_price=Decimal("3.00"))
    fixed = SaleFactory(goods=[b], min_price=Decimal("55.55"), max_price=Decimal("55.55"))
    idle = GoodsFactory(price="1.00")
    SaleFactory(goods=[idle], is_active=False)
    # when
    result = tick_run(slot=1)
    # then: one price each, drawn within its own sale's bounds, now the goods' current price
    assert (result.status, result.goods_count) == ("done", 2)
    ticked = {p.goods_id: p for p in Price.objects.filter(source="tick")}
    assert set(ticked) == {a.id, b.id}
    assert Decimal("2.00") <= ticked[a.id].amount <= Decimal("3.00")
    assert ticked[a.id].sale_id == cheap.id
    assert (ticked[b.id].amount, ticked[b.id].sale_id) == (Decimal("55.55"), fixed.id)
    for goods in (a, b):
        goods.refresh_from_db()
        price = ticked[goods.id]
        assert (goods.price, goods.current_price_id, goods.price_updated_at) == (
            price.amount,
            price.id,
            price.created_at,
        )
    for untouched in (inactive, outside, idle):
        assert Price.objects.filter(goods=untouched).count() == 1
    assert Tick.objects.get(slot=1).goods_count == 2


def test_tick_draws_whole_cents_uniformly_within_the_bounds(usd: Any) -> None:
    # given: 400 goods in a sale of five possible prices, repriced in chunks of 64
    goods = Goods.objects.bulk_create([Goods(name=f"Goods {i}") for i in range(400)])
    SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("1.04"))
    # when: five ticks (2,000 draws)
    for slot in range(5):
        assert tick_run(slot=slot, chunk_size=64).goods_count == 400
    # then: every price a whole cent in [1.00, 1.04], both bounds included, each about
    # a fifth of the draws (400 expected, standard deviation about 18: the band is 5.6 of them)
    amounts = list(Price.objects.filter(source="tick").values_list("amount", flat=True))
    assert len(amounts) == 2000
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in amounts)
    counts = Counter(amounts)
    assert set(counts) == {Decimal(f"1.0{cent}") for cent in range(5)}, counts
    assert all(300 <= n <= 500 for n in counts.values()), counts


def test_a_tick_reprices_in_chunks_each_with_its_own_moment(usd: Any) -> None:
    # given: 10 goods, chunks of 4
    goods = [GoodsFactory(price="1.00") for _ in range(10)]
    SaleFactory(goods=goods, min_price=Decimal("5.00"), max_price=Decimal("9.00"))
    # when
    result = tick_run(slot=21, chunk_size=4)
    # then: three chunks in goods order (4, 4, 2), each written at one moment, later than the last
    assert (result.status, result.goods_count) == ("done", 10)
    prices = list(Price.objects.filter(source="tick").order_by("goods_id"))
    assert [p.goods_id for p in prices] == sorted(g.id for g in goods)
    moments = [p.created_at for p in prices]
    assert [len(set(moments[i : i + 4])) for i in (0, 4, 8)] == [1, 1, 1]
    assert moments[0] < moments[4] < moments[8]
    assert Tick.objects.get(slot=21).goods_count == 10


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


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
        return pid


@pytest.mark.django_db(transaction=True)
def test_a_tick_writes_its_chunks_on_parallel_connections_and_publishes_each_after_commit(
    usd: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # given: 8 goods in chunks of 2, two writers; each chunk waits for another to be in flight
    settings.TICK_WRITERS = 2
    goods = [GoodsFactory(price="1.00") for _ in range(8)]
    SaleFactory(goods=goods, min_price=Decimal("5.00"), max_price=Decimal("9.00"))
    draw, together, backends, published = ticks.prices_draw, threading.Barrier(2, timeout=30), set(), []

    def draw_alongside_another(**kwargs: Any) -> Any:
        together.wait()  # broken (and the tick failed) unless two chunks are written at once
        backends.add(backend_pid())
        return draw(**kwargs)

    def announced(kind: Any, batch: Any) -> None:  # a listener beside the feed's: each batch is committed
        committed = Price.objects.filter(id__in=batch.ids).count()  # read on this thread's connection
        published.append((sorted(goods for _, goods, _, _ in batch.rows), committed))

    monkeypatch.setattr(ticks, "prices_draw", draw_alongside_another)
    monkeypatch.setitem(
        events._listeners, PriceEvent.COMMITTED, [*events._listeners.get(PriceEvent.COMMITTED, []), announced]
    )
    # when
    result = tick_run(slot=31, chunk_size=2)
    # then: every goods repriced once, on connections besides this one (at least two: the barrier
    # above held two chunks in flight at once; each chunk hands its connection back to the pool,
    # which may lend the next chunk any connection it holds)
    assert (result.status, result.goods_count) == ("done", 8)
    assert Price.objects.filter(source="tick").values("goods_id").distinct().count() == 8
    assert len(backends) >= 2 and backend_pid() not in backends
    # and each chunk went to the feed once, whole, after its commit
    ids = sorted(g.id for g in goods)
    assert sorted(published) == [(ids[i : i + 2], 2) for i in range(0, 8, 2)]
    assert Tick.objects.get(slot=31).goods_count == 8


@pytest.mark.django_db(transaction=True)
def test_a_tick_failing_half_way_leaves_whole_chunks(usd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: 6 goods repriced in chunks of 2 by two writers; the second chunk writes its prices, then fails
    goods = [GoodsFactory(price="1.00") for _ in range(6)]
    SaleFactory(goods=goods, min_price=Decimal("5.00"), max_price=Decimal("9.00"))
    ids = sorted(g.id for g in goods)
    first, second, third = ids[0:2], ids[2:4], ids[4:6]
    draw = ticks.prices_draw

    def fail_second(**kwargs: Any) -> Any:
        batch = draw(**kwargs)
        if [goods for goods, _ in kwargs["goods_sales"]] == second:
            assert (
                Price.objects.filter(goods_id__in=second, source="tick").count() == 2
            )  # written, not committed
            raise DatabaseError("disk full")
        return batch

    monkeypatch.setattr(ticks, "prices_draw", fail_second)
    # when
    with pytest.raises(DatabaseError):
        tick_run(slot=11, chunk_size=2)
    monkeypatch.undo()
    # then: the first chunk is there, whole and current; nothing of the second; the third whole
    # or not at all (the other writer may have taken it before the second failed)
    repriced = sorted(Price.objects.filter(source="tick").values_list("goods_id", flat=True))
    assert repriced in (first, first + third)
    for g in Goods.objects.order_by("id"):
        newest = Price.objects.filter(goods=g).order_by("-created_at", "-id").first()
        assert newest is not None
        assert (g.current_price_id, g.price) == (newest.id, newest.amount)
    # the slot ticked (partly: its row says how far) and is not ticked again
    assert Tick.objects.get(slot=11).goods_count == len(repriced)
    assert tick_run(slot=11).status == "duplicate"
    # and the next slot reprices everything
    assert tick_run(slot=12, chunk_size=2).goods_count == 6
    current = Goods.objects.values_list("current_price_id", flat=True)
    assert set(Price.objects.filter(id__in=current).values_list("source", flat=True)) == {"tick"}
