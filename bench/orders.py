"""The consistency invariant at scale (SPEC §9): orders from many clients while
prices are regenerated every 200 ms, then every line checked against history.

Every other goods tracks its stock (SPEC §13), with more units than the run sells, and each
client cancels one order in ``--cancel-every`` of its own; at the end the stock invariant is
checked over the tracked goods too (``stock_violations``).

    python bench/orders.py [--orders 2000] [--clients 50] [--goods 100] [--cancel-every 5]
"""

import argparse
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Timer, report, setup, summary_ms

TRACKED_STOCK = 100_000_000  # units of each tracked goods: more than any run sells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--goods", type=int, default=100)
    parser.add_argument("--cancel-every", type=int, default=5, help="each client cancels one order in N")
    args = parser.parse_args()
    setup()
    from django.db import connections

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.models import Goods
    from shop.catalog.services.sales import sale_reprice
    from shop.catalog.services.stock import goods_stock_set
    from shop.orders.services.lifecycle import Actor, order_cancel
    from shop.orders.services.orders import order_create
    from shop.tests.invariant import order_invariant_violations, stock_invariant_violations

    sale = goods_in_sale(args.goods)
    supplied = {goods_id: TRACKED_STOCK for goods_id in range(2, args.goods + 1, 2)}
    for goods in Goods.objects.filter(id__in=supplied):
        goods_stock_set(goods=goods, stock=TRACKED_STOCK)
    users = [User.objects.get_or_create(email=f"bench{n}@example.com")[0] for n in range(args.clients)]
    stop, regenerations = threading.Event(), [0]

    def regenerate() -> None:
        while not stop.wait(0.2):
            sale_reprice(sale=sale, source="on_demand")
            regenerations[0] += 1
        connections.close_all()

    per_client = args.orders // args.clients
    latencies: list[float] = []
    cancelled = [0]

    def client(n: int) -> None:
        rng = random.Random(n)
        shopper = Actor.of(users[n])
        try:
            for number in range(1, per_client + 1):
                with Timer() as t:
                    placed = order_create(
                        user=users[n],
                        currency_code=rng.choice(["USD", "EUR", "JPY"]),
                        items=[(g, rng.randint(1, 3)) for g in rng.sample(range(1, args.goods + 1), 3)],
                    )
                latencies.append(t.seconds)
                if number % args.cancel_every == 0:
                    order_cancel(order_id=placed.order.id, actor=shopper, user=users[n])
                    cancelled[0] += 1
        finally:
            connections.close_all()

    mover = threading.Thread(target=regenerate)
    mover.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, range(args.clients)))
    elapsed = time.perf_counter() - start
    stop.set()
    mover.join()
    lines, orders = order_invariant_violations()
    report("orders_invariant", orders=len(latencies), clients=args.clients, regenerations=regenerations[0],
           orders_per_s=len(latencies) / elapsed, line_violations=lines, rate_violations=orders,
           **summary_ms(latencies))  # fmt: skip
    sold = sum(
        TRACKED_STOCK - stock
        for stock in Goods.objects.filter(id__in=supplied).values_list("stock", flat=True)
    )
    report("stock_invariant", tracked_goods=len(supplied), orders=len(latencies), cancelled=cancelled[0],
           units_held=sold, violations=len(stock_invariant_violations(supplied)))  # fmt: skip


if __name__ == "__main__":
    main()
