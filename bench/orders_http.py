"""Order throughput over HTTP against Django's own ceiling, same run (SPEC §9, issue 11).

    python bench/orders_http.py [--goods 10000] [--seconds 10] [--clients 8] [--workers 2]
                                [--rounds 1] [--before DIR]

Starts the shop (``manage.py serve``, uvicorn, ``--workers`` processes) and the
ceiling (bench/bare_view.py: a bare Django ASGI view returning the bytes of
``GET /api/goods/{id}/``, Security and Common middleware only, uvicorn with
uvloop and httptools, as many workers), ticks every goods of the sale every
5 s in a thread, as a Celery worker would, and loads in turn, from this
process over keep-alive connections: the ceiling (32 connections) and
``POST /api/orders/`` (3 lines, ``--clients`` connections). ``--before DIR``
also serves the orders of another checkout of the shop (``git archive`` of an
older commit) on the same database, for before/after figures side by side.
Prints each figure and ``ratio`` = orders/s over the ceiling's requests/s.
"""

import argparse
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# One key for this process and every server it starts: they all check its JWT.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

from bench.common import DATABASE_URL, ROOT, report, server, setup, summary_ms
from bench.load import LoadResult, load


@contextmanager
def process(command: list[str], *, cwd: Path, port: int, log_name: str, **env: str) -> Iterator[int]:
    """Any ASGI server of this benchmark, started and waited for; yields its port."""
    environment = {**os.environ, "DATABASE_URL": DATABASE_URL, "PORT": str(port), "LOG_LEVEL": "WARNING",
                   "PRICE_TICKER": "off", **env}  # fmt: skip
    (ROOT / "var").mkdir(exist_ok=True)
    with (ROOT / "var" / log_name).open("wb") as log:
        child = subprocess.Popen(command, cwd=cwd, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(150):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            yield port
        finally:
            child.terminate()
            child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--history", type=int, default=60, help="prices per goods before the run")
    parser.add_argument("--before", type=Path, help="another checkout of the shop, served side by side")
    parser.add_argument("--throttle", default="", help="THROTTLE_ORDERS_PER_USER (default: off, one user)")
    args = parser.parse_args()
    setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.services.sales import sale_reprice
    from shop.catalog.services.ticks import tick_run

    sale = goods_in_sale(args.goods)
    for _ in range(args.history):  # a goods detail carries its newest 50 prices, as in bench/rest.py
        sale_reprice(sale=sale, source="manual")
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_active": True})
    token = str(RefreshToken.for_user(user).access_token)
    order = {"items": [{"goods": g, "quantity": 1} for g in (1, args.goods // 2, args.goods)]}
    auth = {"Authorization": f"Bearer {token}"}

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

    base_port = 20_000 + os.getpid() % 2000
    shop_env = {"DB_POOL_MAX_SIZE": "40", "THROTTLE_ORDERS_PER_USER": args.throttle}
    serve = [sys.executable, "manage.py", "serve", "--no-prepare"]
    with server(workers=args.workers, log_name="bench-orders-http.log", **shop_env) as ours:
        body = urllib.request.urlopen(f"http://127.0.0.1:{ours}/api/goods/{args.goods // 2}/").read()
        body_file = ROOT / "var" / "bench-bare-view-body.json"
        body_file.write_bytes(body)
        bare_cmd = [sys.executable, "-m", "uvicorn", "bench.bare_view:application", "--port", str(base_port),
                    "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools",
                    "--log-level", "warning", "--no-access-log"]  # fmt: skip
        with (
            process(bare_cmd, cwd=ROOT, port=base_port, log_name="bench-bare-view.log",
                    BARE_VIEW_BODY=str(body_file)) as ceiling,
            process(serve, cwd=args.before, port=base_port + 1, log_name="bench-orders-before.log",
                    WEB_CONCURRENCY=str(args.workers), **shop_env) if args.before else nullcontext(0) as before,
        ):  # fmt: skip
            thread = threading.Thread(target=ticker, daemon=True)
            thread.start()
            shops = {"ours": ours} | ({"before": before} if args.before else {})
            for n in range(args.rounds):
                # The ceiling first, then the shops, their order swapped each round: a shop loaded
                # right after another one meets its leftovers (autovacuum, dirty pages).
                order_of = list(shops.items())[:: -1 if n % 2 else 1]
                results: dict[str, LoadResult] = {}
                for name, port in [("ceiling", ceiling), *order_of]:
                    if name == "ceiling":
                        result = load(f"http://127.0.0.1:{port}/bare/", seconds=args.seconds, concurrency=32)
                    else:
                        result = load(f"http://127.0.0.1:{port}/api/orders/", method="POST", json_body=order,
                                      headers=auth, seconds=args.seconds, concurrency=args.clients)  # fmt: skip
                    results[name] = result
                    report("orders_http", round=n + 1, target=name, goods=args.goods, workers=args.workers,
                           rps=result.rate, statuses=result.statuses, **summary_ms(result.latencies))  # fmt: skip
                ceiling_rps = results["ceiling"].rate
                for name in ("before", "ours"):
                    if name in results:
                        report("orders_http_ratio", round=n + 1, target=name, orders_per_s=results[name].rate,
                               ceiling=ceiling_rps, ratio=f"{results[name].rate / ceiling_rps:.3f}")  # fmt: skip
            stop.set()
            thread.join()
    if ticks:
        report("ticks_during_load", goods=args.goods, ticks=len(ticks), **summary_ms(ticks))


if __name__ == "__main__":
    main()
