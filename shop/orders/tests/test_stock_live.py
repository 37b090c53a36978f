"""Stock under real concurrency (SPEC §13), through a real ASGI server and PostgreSQL.

Shoppers race for the last units of a goods; then thousands of random orders, cancellations,
payments and deliveries from many clients while prices move, with the stock invariant sampled
from a connection of its own all along: nothing oversold, every unit accounted for, at every
moment and at the end.
"""

import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from shop.accounts.models import User
from shop.catalog.models import Goods, Sale
from shop.catalog.services.sales import sale_reprice
from shop.catalog.services.ticks import tick_run
from shop.orders.models import Order, OrderLine
from shop.tests.factories import GoodsFactory, SaleFactory, UserFactory
from shop.tests.invariant import order_invariant_violations, stock_invariant_violations, stock_snapshot
from shop.tests.live import asgi_server, call, closing, service_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOPPERS, LAST_UNITS = 50, 10
CLIENTS, OPERATIONS, GOODS = 20, 2000, 20


def token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


@contextmanager
def prices_moving(sale: Sale) -> Iterator[list[int]]:
    """Reprice the sale every 100 ms and run a tick every other time, from this process, until
    the block ends (they lock the goods' rows as orders and stock moves do); yields the count."""
    stop, moves = threading.Event(), [0]

    @closing
    def move() -> None:
        slot = 0
        while not stop.wait(0.1):
            if moves[0] % 2:
                tick_run(slot=slot)
                slot += 1
            else:
                sale_reprice(sale=Sale.objects.get(pk=sale.pk), source="on_demand")
            moves[0] += 1

    mover = threading.Thread(target=move)
    mover.start()
    try:
        yield moves
    finally:
        stop.set()
        mover.join()


def shop_env() -> dict[str, str]:
    # two web processes; every shopper places many orders (no per-user order limit here)
    return service_env(WEB_CONCURRENCY="2", PRICE_TICKER="off", THROTTLE_ORDERS_PER_USER="")


def test_fifty_shoppers_race_for_the_last_ten_units_then_one_is_cancelled_once(
    usd: Any, tmp_path: Path
) -> None:
    # given: a goods with its last 10 units, in a sale whose prices move; 50 shoppers
    goods = GoodsFactory(price="5.00", stock=LAST_UNITS)
    sale = SaleFactory(goods=[goods], min_price=Decimal("1.00"), max_price=Decimal("9.99"))
    tokens = [token(UserFactory()) for _ in range(SHOPPERS)]
    staff = token(UserFactory(is_staff=True))
    start = threading.Barrier(SHOPPERS)
    with asgi_server(shop_env(), tmp_path / "server.log") as base, prices_moving(sale) as moves:

        def buy(n: int) -> tuple[int, Any]:
            start.wait(timeout=60)
            body = {"items": [{"goods": goods.id, "quantity": 1}]}
            return call(f"{base}/api/orders/", "POST", tokens[n], body)

        # when: all of them order one unit at the same moment
        with ThreadPoolExecutor(SHOPPERS) as pool:
            answers = list(pool.map(buy, range(SHOPPERS)))
        # and then one of the buyers and staff cancel one of those orders, ten times each, at once
        buyer = next(n for n, (status, _) in enumerate(answers) if status == 201)
        cancelled = answers[buyer][1]["id"]
        cancel_start = threading.Barrier(20)

        def cancel(bearer: str) -> tuple[int, Any]:
            cancel_start.wait(timeout=60)
            return call(f"{base}/api/orders/{cancelled}/cancel/", "POST", bearer)

        with ThreadPoolExecutor(20) as pool:
            cancels = list(pool.map(cancel, [tokens[buyer], staff] * 10))
    # then: 10 sold, 40 refused whole with what is available (0: never oversold)
    assert Counter(status for status, _ in answers) == {201: LAST_UNITS, 409: SHOPPERS - LAST_UNITS}, answers
    for status, body in answers:
        if status == 409:
            assert body["code"] == "insufficient_stock"
            assert body["goods"] == [{"goods": goods.id, "available": 0}]
    assert Order.objects.count() == LAST_UNITS
    assert sum(OrderLine.objects.values_list("stock_taken", flat=True)) == LAST_UNITS
    # one cancellation won, the others found the order cancelled: its unit came back once
    assert Counter(status for status, _ in cancels) == {200: 1, 409: 19}, cancels
    assert {body["code"] for status, body in cancels if status == 409} == {"invalid_transition"}
    assert Goods.objects.get(pk=goods.pk).stock == 1
    assert Order.objects.filter(status=Order.Status.CANCELLED).get().id == cancelled
    assert stock_invariant_violations({goods.id: LAST_UNITS}) == {}
    assert order_invariant_violations() == (0, 0)
    assert moves[0] >= 1


class Ledger:
    """What the clients know from the answers they got: units supplied (initial stock and staff
    adds), units taken by created orders, units given back by cancellations that succeeded."""

    def __init__(self, stock: dict[int, int]) -> None:
        self.lock = threading.Lock()
        # Staff adds and invariant samples take turns on this: when a sample is read, every add
        # that committed has been answered and counted, and no other is under way.
        self.adds = threading.Lock()
        self.supplied = dict(stock)
        self.taken: Counter[int] = Counter()
        self.returned: Counter[int] = Counter()
        self.orders: dict[int, dict[int, int]] = {}  # order id -> goods id -> units
        self.owners: dict[int, int] = {}  # order id -> client
        self.cancelled: Counter[int] = Counter()  # order id -> successful cancellations (1 at most)
        self.statuses: Counter[tuple[str, int, str]] = Counter()  # (operation, status, code)

    def created(self, client: int, order: dict[str, Any]) -> None:
        units = {item["goods"]: item["quantity"] for item in order["items"]}
        with self.lock:
            self.orders[order["id"]] = units
            self.owners[order["id"]] = client
            self.taken.update(units)

    def cancelled_ok(self, order_id: int) -> None:
        with self.lock:
            self.cancelled[order_id] += 1
            self.returned.update(self.orders[order_id])

    def some_order(self, rng: random.Random, client: int | None = None) -> int | None:
        """One of the client's orders (anyone's: None), mostly one not known to be cancelled."""
        with self.lock:
            ids = [o for o, owner in self.owners.items() if client is None or owner == client]
            live = [o for o in ids if not self.cancelled[o]]
        if live and rng.random() < 0.8:
            return rng.choice(live)
        return rng.choice(ids) if ids else None

    def answered(self, operation: str, status: int, body: Any) -> None:
        code = body.get("code", "") if isinstance(body, dict) else ""
        with self.lock:
            self.statuses[operation, status, code] += 1


# Every answer each operation may get; anything else (a 500, a 404 of one's own order) fails.
EXPECTED = {
    ("order", 201, ""),
    ("order", 409, "insufficient_stock"),
    ("cancel", 200, ""),
    ("cancel", 409, "invalid_transition"),
    ("pay", 200, ""),
    ("pay", 409, "invalid_transition"),
    ("add", 200, ""),
    ("add", 409, "stock_below_zero"),
}


def test_random_orders_and_cancels_keep_every_unit_accounted_for(usd: Any, tmp_path: Path) -> None:
    # given: 20 goods with stock in a sale whose prices move, 20 shoppers and a staff member
    rng = random.Random(21)
    goods = [GoodsFactory(price="5.00", stock=rng.randint(20, 60)) for _ in range(GOODS)]
    sale = SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("99.99"))
    ledger = Ledger({g.id: g.stock for g in goods})
    ids = list(ledger.supplied)
    shoppers = [token(UserFactory()) for _ in range(CLIENTS)]
    staff = token(UserFactory(is_staff=True))
    load_done = threading.Event()
    samples: list[dict[int, tuple[int, int | None, int]]] = []
    price_samples: list[tuple[int, int]] = []

    with asgi_server(shop_env(), tmp_path / "server.log") as base, prices_moving(sale) as moves:

        def order(client: int, r: random.Random) -> None:
            lines = [{"goods": g, "quantity": r.randint(1, 4)} for g in r.sample(ids, r.randint(1, 3))]
            status, body = call(f"{base}/api/orders/", "POST", shoppers[client], {"items": lines})
            ledger.answered("order", status, body)
            if status == 201:
                ledger.created(client, body)

        def cancel(order_id: int, bearer: str) -> None:
            status, body = call(f"{base}/api/orders/{order_id}/cancel/", "POST", bearer)
            ledger.answered("cancel", status, body)
            if status == 200:
                ledger.cancelled_ok(order_id)

        @closing
        def shopper(client: int) -> None:
            r = random.Random(client)
            for _ in range(OPERATIONS // CLIENTS):
                order_id = ledger.some_order(r, client)
                if order_id is None or r.random() < 0.55:
                    order(client, r)
                else:  # one of its own orders, perhaps cancelled or paid already
                    cancel(order_id, shoppers[client])

        @closing
        def staff_member() -> None:
            r = random.Random(-1)
            while not load_done.is_set():
                action, order_id = r.random(), ledger.some_order(r)
                if action < 0.5 or order_id is None:
                    goods_id, add = r.choice(ids), r.randint(-5, 15)
                    with ledger.adds:
                        status, body = call(
                            f"{base}/api/goods/{goods_id}/stock/", "POST", staff, {"add": add}
                        )
                        if status == 200:
                            ledger.supplied[goods_id] += add
                    ledger.answered("add", status, body)
                elif action < 0.8:
                    payment = {"method": "bank_transfer", "reference": f"transfer {order_id}"}
                    status, body = call(f"{base}/api/orders/{order_id}/pay/", "POST", staff, payment)
                    ledger.answered("pay", status, body)
                else:  # placed or paid: staff may cancel either
                    cancel(order_id, staff)

        @closing
        def sampler() -> None:
            # each sample one REPEATABLE READ snapshot: stock and orders as of one moment
            while not load_done.wait(0.05):
                with ledger.adds, stock_snapshot():
                    samples.append(stock_invariant_violations(dict(ledger.supplied)))
                    price_samples.append(order_invariant_violations())

        # when: 2,000 random orders and cancellations from 20 clients, staff paying, cancelling
        # and adding stock all along, prices repriced and ticked, the invariant sampled
        with ThreadPoolExecutor(CLIENTS + 2) as pool:
            helpers = [pool.submit(staff_member), pool.submit(sampler)]
            list(pool.map(shopper, range(CLIENTS)))
            load_done.set()
            for helper in helpers:
                helper.result()

    # then: only the answers the rules allow, and enough of each kind to mean something
    unexpected = {key: n for key, n in ledger.statuses.items() if key not in EXPECTED}
    assert not unexpected, f"unexpected answers: {unexpected}; see {tmp_path / 'server.log'}"
    counts = ledger.statuses
    assert counts["order", 201, ""] >= 300 and counts["order", 409, "insufficient_stock"] >= 50, counts
    assert counts["cancel", 200, ""] >= 100 and counts["cancel", 409, "invalid_transition"] >= 10, counts
    assert counts["pay", 200, ""] >= 5 and counts["add", 200, ""] >= 10, counts
    # the invariant held at every moment sampled, and the prices' invariant with it
    assert len(samples) >= 20, len(samples)
    assert [s for s in samples if s] == []
    assert set(price_samples) == {(0, 0)}
    # and at the end: every unit in stock or in an order not cancelled
    assert set(Goods.objects.filter(stock__isnull=False).values_list("id", flat=True)) == set(ids)
    assert stock_invariant_violations(ledger.supplied) == {}
    assert order_invariant_violations() == (0, 0)
    # what the clients were told agrees: each order cancelled once at most, its units back once
    assert max(ledger.cancelled.values()) == 1
    cancelled = set(Order.objects.filter(status=Order.Status.CANCELLED).values_list("id", flat=True))
    assert cancelled == set(ledger.cancelled)
    assert Order.objects.count() == len(ledger.orders)
    stock = dict(Goods.objects.filter(id__in=ids).values_list("id", "stock"))
    assert stock == {g: ledger.supplied[g] - ledger.taken[g] + ledger.returned[g] for g in ids}
    assert moves[0] >= 5
    print(f"{dict(counts)}; {len(samples)} samples; {moves[0]} price moves")
