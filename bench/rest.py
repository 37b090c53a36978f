"""REST under load while ticks run (SPEC §9): goods detail and order creation.

    python bench/rest.py [--goods 10000] [--seconds 10] [--concurrency 32] [--workers 2]

Starts the ASGI server (``manage.py serve``, uvicorn with ``--workers`` processes)
against the bench database, ticks every 5 s in the background like a Celery
worker would, and loads it from this process over keep-alive connections.
"""

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import report, server, setup, summary_ms
from bench.load import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.services.sales import sale_reprice
    from shop.catalog.services.ticks import tick_run

    sale = goods_in_sale(args.goods)
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

    with server(workers=args.workers, log_name="bench-rest-server.log", DB_POOL_MAX_SIZE="40") as port:
        base = f"http://127.0.0.1:{port}"
        thread = threading.Thread(target=ticker, daemon=True)
        thread.start()
        detail = load(
            f"{base}/api/goods/{args.goods // 2}/", seconds=args.seconds, concurrency=args.concurrency
        )
        report("goods_detail_http", goods=args.goods, workers=args.workers, concurrency=args.concurrency,
               rps=detail.rate, statuses=detail.statuses, **summary_ms(detail.latencies))  # fmt: skip
        order = {"items": [{"goods": g, "quantity": 1} for g in (1, args.goods // 2, args.goods)]}
        orders = load(f"{base}/api/orders/", method="POST", json_body=order,
                      headers={"Authorization": f"Bearer {token}"}, seconds=args.seconds,
                      concurrency=min(args.concurrency, 16))  # fmt: skip
        report("orders_http", goods=args.goods, workers=args.workers, lines=3, rps=orders.rate,
               statuses=orders.statuses, **summary_ms(orders.latencies))  # fmt: skip
        stop.set()
        thread.join()
        if ticks:
            report("ticks_during_load", goods=args.goods, ticks=len(ticks), **summary_ms(ticks))


if __name__ == "__main__":
    main()
