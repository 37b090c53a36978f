"""Scale-out for real: nginx (deploy/nginx.conf) in front of two `serve` processes on two ports,
one Celery worker and one beat, against one PostgreSQL database and one Redis database."""

import asyncio
import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError

import pytest
import websockets
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.models import Price, Tick
from shop.core.schedules import schedules_ensure
from shop.orders.models import Order
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory
from shop.tests.invariant import order_invariant_violations
from shop.tests.live import (
    asgi_server_process,
    celery,
    json_request,
    next_of,
    service_env,
    wait_until,
)
from shop.tests.metrics import TOKEN
from shop.tests.proxy import nginx, upstreams

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass
class Deployment:
    proxy: str
    nginx_dir: Path
    backends: list[str]  # "127.0.0.1:port" of each web process
    web: list[Any]  # their Popen objects


@contextmanager
def web_process(env: dict[str, str], log: Path) -> Iterator[tuple[str, Any]]:
    with asgi_server_process(env, log) as (base, proc):
        yield base.removeprefix("http://"), proc


@contextmanager
def deployment(tmp_path: Path, **settings: str) -> Iterator[Deployment]:
    env = service_env(
        PRICE_TICK_SECONDS="1",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        FORWARDED_ALLOW_IPS="127.0.0.1",  # the proxy
        **settings,
    )
    schedules_ensure()
    with ExitStack() as stack:
        one, proc_one = stack.enter_context(web_process(env, tmp_path / "web1.log"))
        two, proc_two = stack.enter_context(web_process(env, tmp_path / "web2.log"))
        stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        stack.enter_context(celery("beat", env, tmp_path / "beat.log"))
        proxy = stack.enter_context(nginx([one, two], tmp_path / "nginx"))
        # ready once beat and the worker tick (they take a while to start on a loaded machine)
        wait_until(Tick.objects.exists, timeout=120)
        yield Deployment(proxy, tmp_path / "nginx", [one, two], [proc_one, proc_two])


def request(*args: Any, **kwargs: Any) -> tuple[int, Any, Any]:
    """``json_request(...)`` sent: (status, headers, decoded body); a connection failure is status 0."""
    req = json_request(*args, **kwargs)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, json.load(response)
    except HTTPError as error:
        raw = error.read()
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = raw.decode(errors="replace")
        return error.code, error.headers, decoded
    except (URLError, ConnectionError, TimeoutError):
        return 0, {}, None


def test_feed_generation_and_limits_are_one_across_backends(usd: Any, tmp_path: Path) -> None:
    # given: a running sale ticking every second and the whole deployment behind nginx
    goods = [GoodsFactory(price="1.00") for _ in range(3)]
    sale = SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("99.99"))
    staff = str(RefreshToken.for_user(UserFactory(is_staff=True)).access_token)
    with deployment(tmp_path, THROTTLE_LOGIN_PER_IP="5/m") as shop:
        feed = shop.proxy.replace("http", "ws") + "/ws/price_updates/"

        # when: four feed clients connect through the proxy (least_conn spreads them)
        async def clients(count: int, batches: int) -> list[list[tuple[int, Any]]]:
            sockets = [await websockets.connect(feed) for _ in range(count)]
            try:
                first = [(await next_of(ws, "snapshot"))["seq"] for ws in sockets]
                start = max(first) + 1  # every client is connected before this batch

                async def collect(ws: Any) -> list[tuple[int, Any]]:
                    seen: list[tuple[int, Any]] = []
                    while not seen or seen[-1][0] < start + batches - 1:
                        message = await next_of(ws, "prices")
                        if message["seq"] >= start:
                            seen.append((message["seq"], message["prices"]))
                    return seen

                return list(await asyncio.gather(*(collect(ws) for ws in sockets)))
            finally:
                for ws in sockets:
                    await ws.close()

        received = asyncio.run(asyncio.wait_for(clients(4, 5), 90))
        # then: every client got the same batches, with the same seq, in the same order, none missing
        assert all(r == received[0] for r in received), received
        seqs = [seq for seq, _ in received[0]]
        assert seqs == list(range(seqs[0], seqs[0] + 5))
        assert all(len(prices) == 3 for _, prices in received[0])

        # the proxy passes the client's Host and scheme: links the shop makes point at the proxy
        status, _, page = request(f"{shop.proxy}/api/goods/?limit=1")
        assert status == 200 and page["next"].startswith(f"{shop.proxy}/api/goods/?"), page

        # when: generate-prices is fired 12 times at once through the proxy
        url = f"{shop.proxy}/api/sales/{sale.id}/generate-prices/"
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda _: request(url, "PUT", staff), range(12)))
        # then: exactly one winner, the others 429 with Retry-After
        statuses = sorted(status for status, _, _ in answers)
        assert statuses == [200] + [429] * 11, answers
        assert all(1 <= int(h["Retry-After"]) <= 5 for s, h, _ in answers if s == 429)
        assert Price.objects.filter(source="on_demand").count() == 3

        # when: 10 failed logins at once through the proxy, each claiming another address
        # The limit's window is the clock's minute: start well inside one. Each backend answers
        # them one at a time, hashing a password for each 401, and counts the later ones only
        # then: on a loaded machine that takes seconds, so leave half a minute for it.
        wait_until(lambda: time.time() % 60 < 30, timeout=40)
        login = f"{shop.proxy}/auth/jwt/create/"

        def bad_login(i: int) -> int:
            body = {"email": f"nobody{i}@example.com", "password": "wrong"}
            return request(login, "POST", body=body, headers={"X-Forwarded-For": f"10.0.0.{i}"})[0]

        with ThreadPoolExecutor(10) as pool:
            logins = sorted(pool.map(bad_login, range(10)))
        # then: the limit of 5 per address is counted once for the deployment, and the proxy's own
        # view of the client (127.0.0.1) is what counts, not the forged header
        assert logins == [401] * 5 + [429] * 5, logins

    # and: both backends served each kind of request
    both = set(shop.backends)
    assert upstreams(shop.nginx_dir, "/ws/price_updates/") == both
    assert upstreams(shop.nginx_dir, "/generate-prices/") == both
    assert upstreams(shop.nginx_dir, "/auth/jwt/create/") == both


def test_orders_through_both_backends_survive_losing_one(usd: Any, tmp_path: Path) -> None:
    # given: goods ticking every second, a staff regenerating prices, shoppers ordering through the proxy
    CurrencyFactory(code="EUR", rate="0.92")
    goods = [GoodsFactory(price="10.00") for _ in range(6)]
    sale = SaleFactory(goods=goods, min_price=Decimal("1.00"), max_price=Decimal("99.99"))
    staff = str(RefreshToken.for_user(UserFactory(is_staff=True)).access_token)
    shoppers = [str(RefreshToken.for_user(UserFactory()).access_token) for _ in range(6)]
    total, kill_after = 120, 40
    with deployment(tmp_path) as shop:
        stop = threading.Event()
        placed: dict[str, int] = {}  # Idempotency-Key -> order id
        lock = threading.Lock()
        failures: list[Any] = []
        keys = iter(range(total))

        def regenerate() -> None:
            while not stop.is_set():
                request(f"{shop.proxy}/api/sales/{sale.id}/generate-prices/", "PUT", staff)
                stop.wait(0.3)

        def shopper(index: int) -> None:
            token = shoppers[index]
            for n in keys:  # shared: the threads take turns
                key = f"order-{n}"
                lines = [{"goods": goods[(n + i) % 6].id, "quantity": 1 + i} for i in range(3)]
                body = {"currency": "EUR" if n % 2 else "USD", "items": lines}
                deadline = time.monotonic() + 60
                while True:  # a client retries with the same key until it has an answer
                    status, _, answer = request(
                        f"{shop.proxy}/api/orders/", "POST", token, body, {"Idempotency-Key": key}
                    )
                    if status == 201:
                        with lock:
                            placed[key] = answer["id"]
                        break
                    if status not in (0, 502, 503, 504) or time.monotonic() > deadline:
                        failures.append((key, status, answer))
                        break
                    time.sleep(0.2)

        regenerator = threading.Thread(target=regenerate)
        regenerator.start()
        try:
            with ThreadPoolExecutor(len(shoppers)) as pool:
                running = [pool.submit(shopper, i) for i in range(len(shoppers))]
                # when: one backend is killed mid-run
                wait_until(lambda: len(placed) >= kill_after, timeout=120)
                os.killpg(shop.web[1].pid, signal.SIGKILL)
                killed_at = len(placed)
                for future in running:
                    future.result(timeout=300)
        finally:
            stop.set()
            regenerator.join()
        # then: the proxy serves on from the other backend
        for _ in range(20):
            assert request(f"{shop.proxy}/healthz")[0] == 200
        served_before_kill = upstreams(shop.nginx_dir, "/api/orders/")

    # every order was answered 201 exactly once per key, and every one answered is committed
    assert not failures, failures[:5]
    assert len(placed) == total and killed_at < total
    assert sorted(Order.objects.values_list("id", flat=True)) == sorted(placed.values())
    # the invariant holds for every order placed through both backends while prices moved
    assert order_invariant_violations() == (0, 0)
    assert set(shop.backends) <= served_before_kill
    assert Price.objects.filter(source="tick").exists() and Price.objects.filter(source="on_demand").exists()
