"""REST under load while ticks run, against Django's own ceiling (SPEC §9).

    python bench/rest.py [--goods 10000] [--seconds 10] [--concurrency 32] [--workers N]

Starts the shop (``manage.py serve`` at its defaults unless ``--workers``) and the
ceiling (``bench/ceiling.py``: a bare Django view answering the very bytes the shop
answered, on uvicorn with uvloop, httptools and 2 workers) side by side, ticks a
sale of ``--goods`` goods every 5 s in the background as the Celery worker would,
and loads each from this process with the same client: the goods detail, the
first page of the goods list and one page of a goods' price history, then orders
of 3 lines from 8 clients. Each read is measured in two alternating halves
(ceiling, shop, ceiling, shop) so that drift on a shared machine hits both sides.
Prints ``bench=rest endpoint=… ours=… ceiling=… ratio=…`` (requests/s).

Orders are placed on goods whose stock is not tracked (``endpoint=orders``) and on goods
with tracked stock (``endpoint=orders_tracked``: each order also takes its units under the
goods' locks, SPEC §13), in alternating halves too; each is a ratio of the goods detail's
ceiling, and the tracked one of the untracked one. The tracked goods hold enough units
never to refuse an order, and the stock invariant is checked over them at the end
(``bench=stock_invariant violations=0``).
"""

import argparse
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ceiling_view, report, server, setup, summary_ms
from bench.load import LoadResult, load, merged

TRACKED_STOCK = 100_000_000  # units of each tracked goods: more than any run sells
ORDER_CLIENTS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, help="web processes (default: the shop's own default)")
    args = parser.parse_args()
    setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.models import Goods
    from shop.catalog.services.sales import sale_reprice
    from shop.catalog.services.stock import goods_stock_set
    from shop.catalog.services.ticks import tick_run
    from shop.tests.invariant import order_invariant_violations, stock_invariant_violations

    sale = goods_in_sale(args.goods)
    middle = args.goods // 2
    # Each of the 8 ordering clients buys its own 3 goods, over and over: untracked ones from the
    # first half of the catalog, tracked ones from the second (orders of one tracked goods take
    # turns on its row, so shared goods would measure contention, not the cost of stock).
    untracked = [(1 + 3 * n, 2 + 3 * n, 3 + 3 * n) for n in range(ORDER_CLIENTS)]
    tracked = [(middle + 1 + 3 * n, middle + 2 + 3 * n, middle + 3 + 3 * n) for n in range(ORDER_CLIENTS)]
    supplied = {goods_id: TRACKED_STOCK for goods in tracked for goods_id in goods}
    for goods in Goods.objects.filter(id__in=supplied):
        goods_stock_set(goods=goods, stock=TRACKED_STOCK)
    for _ in range(60):  # a goods detail carries its newest 50 prices: give it a history
        sale_reprice(sale=sale, source="manual")
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_active": True})
    token = str(RefreshToken.for_user(user).access_token)

    stop = threading.Event()
    ticks: list[float] = []

    def ticker() -> None:  # what the Celery worker does, every 5 s
        from django.db import connections

        slot = 1
        while not stop.wait(5 - time.time() % 5):
            start = time.perf_counter()
            tick_run(slot=slot)
            ticks.append(time.perf_counter() - start)
            slot += 1
        connections.close_all()

    reads = {
        "goods_detail": f"/api/goods/{middle}/",
        "goods_list": "/api/goods/?currency=EUR",
        "price_history": f"/api/prices/?goods={middle}",
    }
    workers = {"WEB_CONCURRENCY": str(args.workers)} if args.workers else {}
    # the shop at its defaults (make stack): the access log on, the pool and processes as they come
    with server(log_name="bench-rest-server.log", LOG_LEVEL="INFO", **workers) as port:
        base = f"http://127.0.0.1:{port}"
        bodies = {path: urllib.request.urlopen(base + path).read().decode() for path in reads.values()}  # noqa: S310
        with ceiling_view(bodies, name="bench-ceiling") as ceiling_base:
            thread = threading.Thread(target=ticker, daemon=True)
            thread.start()
            rates: dict[str, float] = {}
            for name, path in reads.items():
                halves: dict[str, list[LoadResult]] = {"ceiling": [], "ours": []}
                for _ in range(2):
                    for side, root in (("ceiling", ceiling_base), ("ours", base)):
                        halves[side].append(
                            load(root + path, seconds=args.seconds / 2, concurrency=args.concurrency)
                        )
                ours, ceiling = merged(*halves["ours"]), merged(*halves["ceiling"])
                rates[name] = ceiling.rate
                report("rest", endpoint=name, goods=args.goods, concurrency=args.concurrency,
                       ours=ours.rate, ceiling=ceiling.rate, ratio=f"{ours.rate / ceiling.rate:.2f}",
                       statuses=ours.statuses, **summary_ms(ours.latencies))  # fmt: skip
            placed: dict[str, list[LoadResult]] = {"orders": [], "orders_tracked": []}
            auth = {"Authorization": f"Bearer {token}"}
            for _ in range(2):
                for name, sets in (("orders", untracked), ("orders_tracked", tracked)):
                    orders = [
                        {"items": [{"goods": g, "quantity": 1} for g in goods_ids]} for goods_ids in sets
                    ]
                    url, half = f"{base}/api/orders/", args.seconds / 2
                    placed[name].append(
                        load(
                            url,
                            method="POST",
                            json_bodies=orders,
                            headers=auth,
                            seconds=half,
                            concurrency=ORDER_CLIENTS,
                        )
                    )
            plain, stocked = merged(*placed["orders"]), merged(*placed["orders_tracked"])
            for name, orders in (("orders", plain), ("orders_tracked", stocked)):
                report("rest", endpoint=name, goods=args.goods, lines=3, clients=8, ours=orders.rate,
                       ceiling=rates["goods_detail"], ratio=f"{orders.rate / rates['goods_detail']:.2f}",
                       statuses=orders.statuses, **summary_ms(orders.latencies))  # fmt: skip
            report("rest", endpoint="orders_tracked_vs_untracked", tracked=stocked.rate, untracked=plain.rate,
                   ratio=f"{stocked.rate / plain.rate:.2f}")  # fmt: skip
            stop.set()
            thread.join()
    if ticks:
        report("ticks_during_load", goods=args.goods, ticks=len(ticks), **summary_ms(ticks))
    sold = dict(Goods.objects.filter(id__in=supplied).values_list("id", "stock"))
    report("stock_invariant", goods=len(supplied), units_sold=sum(TRACKED_STOCK - n for n in sold.values()),
           violations=len(stock_invariant_violations(supplied)))  # fmt: skip
    line_breaches, rate_breaches = order_invariant_violations()
    report("orders_invariant", line_violations=line_breaches, rate_violations=rate_breaches)


if __name__ == "__main__":
    main()
