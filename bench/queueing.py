"""Orders never queue behind a tick (SPEC §9, issue 11): order latency on goods that
tick against goods that do not, side by side in one run.

    python bench/queueing.py [--goods 100000] [--quiet 1000] [--seconds 30] [--clients 8] [--workers 2] [--chunk N]

A sale of ``--goods`` goods ticks every 5 s (in a thread, as the Celery worker
would); ``--quiet`` more active goods are in no sale. Over HTTP, ``--clients``
connections place orders of 3 lines on ticking goods while as many place the
same orders on quiet goods, at the same time, against the same server. The
ratio of the two p99s is what a tick's locks cost an order (goal: at most 2).
"""

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import report, server, setup, summary_ms
from bench.load import LoadResult, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=100_000)
    parser.add_argument("--quiet", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, help="goods per tick chunk (default: the service's)")
    args = parser.parse_args()
    setup()
    from django.db import connection, connections
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.services.ticks import TICK_CHUNK_GOODS, tick_run

    total = args.goods + args.quiet
    goods_in_sale(total)  # every goods priced; then the last --quiet leave the sale: they never tick
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_sale_goods WHERE goods_id > %s", [args.goods])
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_active": True})
    token = str(RefreshToken.for_user(user).access_token)

    stop = threading.Event()
    ticks: list[float] = []
    counts: list[int] = []

    def ticker() -> None:  # what the Celery worker does, every 5 s
        slot = 1
        while not stop.wait(5 - time.time() % 5):
            start = time.perf_counter()
            counts.append(tick_run(slot=slot, chunk_size=args.chunk).goods_count)
            ticks.append(time.perf_counter() - start)
            slot += 1
        connections.close_all()

    def order_of(first: int, last: int) -> dict[str, object]:  # far apart: three chunks of a tick
        return {"items": [{"goods": g, "quantity": 1} for g in (first, (first + last) // 2, last)]}

    results: dict[str, LoadResult] = {}

    def place(name: str, body: dict[str, object]) -> None:
        results[name] = load(f"{base}/api/orders/", method="POST", json_body=body,
                             headers={"Authorization": f"Bearer {token}"}, seconds=args.seconds,
                             concurrency=args.clients)  # fmt: skip

    with server(workers=args.workers, log_name="bench-queueing-server.log", DB_POOL_MAX_SIZE="40") as port:
        base = f"http://127.0.0.1:{port}"
        thread = threading.Thread(target=ticker, daemon=True)
        thread.start()
        stop.wait(5 - time.time() % 5 + 0.5)  # start just after the first tick began
        loads = [
            threading.Thread(target=place, args=("ticking", order_of(1, args.goods))),
            threading.Thread(target=place, args=("quiet", order_of(args.goods + 1, total))),
        ]
        for t in loads:
            t.start()
        for t in loads:
            t.join()
        stop.set()
        thread.join()
    ours, quiet = results["ticking"], results["quiet"]
    ours_p99, quiet_p99 = summary_ms(ours.latencies)["p99_ms"], summary_ms(quiet.latencies)["p99_ms"]
    report("orders_queueing", goods=args.goods, chunk=args.chunk or TICK_CHUNK_GOODS, clients=args.clients, lines=3, ticks=len(ticks),
           ours_p99_ms=ours_p99, quiet_p99_ms=quiet_p99, ratio=f"{ours_p99 / quiet_p99:.2f}",
           ours_median_ms=summary_ms(ours.latencies)["median_ms"],
           quiet_median_ms=summary_ms(quiet.latencies)["median_ms"],
           ours_rps=ours.rate, quiet_rps=quiet.rate, ours_statuses=ours.statuses,
           quiet_statuses=quiet.statuses)  # fmt: skip
    if ticks:
        report("ticks_during_orders", goods=args.goods, ticks=len(ticks), repriced=sorted(set(counts)),
               **summary_ms(ticks))  # fmt: skip


if __name__ == "__main__":
    main()
