"""Scale-out: one web process vs two behind nginx (deploy/nginx.conf), same run, same load client.

    python bench/scale.py [--goods 1000] [--seconds 15] [--concurrency 32] [--mixed 60] [--scrapes FILE]

Runs a real deployment on the bench database: two ``serve`` processes (one uvicorn worker
each), a Celery worker and beat ticking every PRICE_TICK_SECONDS, and nginx in front (Debian's
nginx, run as this script's own process on a free port). It then loads ``GET /api/goods/{id}/``
through the proxy twice: with the proxy's upstream holding one web process, then both. Both
figures come from the same run, the same database and the same load client.

With ``--mixed N`` it goes on for N seconds of mixed traffic through both processes (feed
clients, orders with every outcome, refused logins) while ``/metrics`` is scraped every 2 s into
``--scrapes`` (JSON lines): the series ``scripts/metrics_plot.py`` draws the dashboard's panels
from.
"""

import argparse
import asyncio
import json
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DATABASE_URL, ROOT, free_port, machine, report, setup, started, summary_ms, wait_http
from bench.load import load

TOKEN = "bench-metrics-token"  # noqa: S105 - a throw-away local deployment's scrape token
METRICS_DIR = ROOT / "var" / "bench-scale-metrics"


@contextmanager
def web(env: dict[str, str], name: str) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "manage.py", "serve", "--no-prepare"]
    with started(args, {**env, "PORT": str(port), "WEB_CONCURRENCY": "1"}, f"bench-scale-{name}.log"):
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield f"127.0.0.1:{port}"


def request(url: str, method: str = "GET", token: str | None = None, body: Any = None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - local
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def scraper(backend: str, path: Path, stop: threading.Event) -> None:
    with path.open("w") as out:
        while not stop.wait(2 - time.time() % 2):
            req = urllib.request.Request(
                f"http://{backend}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            try:
                with urllib.request.urlopen(req, timeout=5) as response:  # noqa: S310
                    out.write(json.dumps({"t": time.time(), "text": response.read().decode()}) + "\n")
                    out.flush()
            except OSError:
                continue


def feed_clients(url: str, count: int, stop: threading.Event) -> None:
    import websockets

    async def one() -> None:
        while not stop.is_set():
            try:
                async with websockets.connect(url) as ws:
                    while not stop.is_set():
                        try:
                            await asyncio.wait_for(ws.recv(), 1)
                        except TimeoutError:
                            continue
            except (OSError, websockets.ConnectionClosed):  # dropped or refused: come back, like a browser
                await asyncio.sleep(1)

    async def all_of_them() -> None:
        clients = []
        for _ in range(count):  # a few a second, like a crowd arriving
            clients.append(asyncio.ensure_future(one()))
            await asyncio.sleep(0.1)
        await asyncio.gather(*clients)

    asyncio.run(all_of_them())


def mixed_traffic(proxy: str, goods: list[int], token: str, seconds: float) -> None:
    """Orders with every outcome and some refused logins, a few a second, while the load runs."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        lines = [{"goods": goods[(n + i) % len(goods)], "quantity": 1} for i in range(3)]
        body: dict[str, Any] = {"currency": "EUR", "items": lines}
        if n % 7 == 0:
            body["max_order_sum"] = "0.01"  # order_sum_too_high
        if n % 11 == 0:
            body["items"] = []  # invalid
        request(f"{proxy}/api/orders/", "POST", token, body)
        if n % 5 == 0:
            request(
                f"{proxy}/auth/jwt/create/", "POST", body={"email": f"x{n}@example.com", "password": "no"}
            )
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--mixed", type=float, default=0.0, help="seconds of mixed traffic after the figures")
    parser.add_argument("--scrapes", type=Path, default=ROOT / "var" / "bench-scale-scrapes.jsonl")
    args = parser.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIR.glob("*.db"):
        stale.unlink()
    setup()
    from rest_framework_simplejwt.tokens import RefreshToken

    from bench.seed import goods_in_sale
    from shop.accounts.models import User
    from shop.catalog.services.sales import sale_reprice
    from shop.core.schedules import schedules_ensure
    from shop.tests.proxy import nginx

    sale = goods_in_sale(args.goods)
    for _ in range(60):  # a goods detail carries its newest 50 prices: give it a history
        sale_reprice(sale=sale, source="manual")
    schedules_ensure()
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_active": True})
    token = str(RefreshToken.for_user(user).access_token)
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "LOG_LEVEL": "WARNING", "METRICS_TOKEN": TOKEN,
           "THROTTLE_LOGIN_PER_IP": "10/m", "FEED_MAX_CONNECTIONS_PER_IP": "0"}  # fmt: skip
    celery = str(Path(sys.executable).with_name("celery"))
    print(f"machine: {machine()}", flush=True)
    stop = threading.Event()
    with ExitStack() as stack:
        stack.enter_context(
            started([celery, "-A", "config", "worker", "--concurrency=2"], env, "bench-scale-worker.log")
        )
        stack.enter_context(started([celery, "-A", "config", "beat"], env, "bench-scale-beat.log"))
        one = stack.enter_context(web(env, "web1"))
        two = stack.enter_context(web(env, "web2"))
        scraping = threading.Thread(target=scraper, args=(one, args.scrapes, stop), daemon=True)
        scraping.start()
        detail = f"/api/goods/{args.goods // 2}/"
        figures = {}
        for label, backends in (("one_web", [one]), ("two_web", [one, two])):
            with nginx(backends, ROOT / "var" / f"bench-scale-nginx-{label}") as proxy:
                load(f"{proxy}{detail}", seconds=2, concurrency=args.concurrency)  # warm-up
                result = load(f"{proxy}{detail}", seconds=args.seconds, concurrency=args.concurrency)
                figures[label] = result.rate
                report("scale_goods_detail", web_processes=len(backends), concurrency=args.concurrency,
                       rps=result.rate, statuses=result.statuses, **summary_ms(result.latencies))  # fmt: skip
        report("scale_ratio", two_over_one=figures["two_web"] / figures["one_web"])
        if args.mixed:
            with nginx([one, two], ROOT / "var" / "bench-scale-nginx-mixed") as proxy:
                ws = proxy.replace("http", "ws") + "/ws/price_updates/"
                threads = [
                    threading.Thread(target=feed_clients, args=(ws, 100, stop), daemon=True),
                    threading.Thread(
                        target=mixed_traffic, args=(proxy, list(range(1, 21)), token, args.mixed)
                    ),
                ]
                for thread in threads:
                    thread.start()
                # waves of reads: the request rate moves on the dashboard
                end = time.monotonic() + args.mixed
                while time.monotonic() < end:
                    load(f"{proxy}{detail}", seconds=min(10, end - time.monotonic()), concurrency=8)
                    time.sleep(min(5, max(0, end - time.monotonic())))
                threads[1].join()
        stop.set()
        scraping.join(timeout=5)
    print(f"scrapes: {args.scrapes}", flush=True)


if __name__ == "__main__":
    main()
