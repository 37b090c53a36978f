"""A burst of costly anonymous searches against a live server with 10,000 goods: the shop keeps
answering, the burst is answered quickly (400 or 503), and no statement of it outlives it."""

import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from shop.catalog.models import Goods
from shop.tests.live import asgi_server, service_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEARCH = "search=" + ",".join(["e"] * 3500)  # 7 KB: 7,000 conditions in one statement, uncapped


def get(url: str, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local test server
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0  # no answer in time
    return status, time.monotonic() - started


def burst_statements() -> list[str]:
    """The statements of the burst still running on the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
            "AND pid <> pg_backend_pid() AND query ILIKE %s",
            ["%like%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_burst_of_costly_searches_is_answered_quickly_and_outlives_nothing(
    usd: Any, tmp_path: Path
) -> None:
    Goods.objects.bulk_create([Goods(name=f"Goods {i}", description="A fine thing.") for i in range(10_000)])
    with asgi_server(service_env(PRICE_TICKER="off"), tmp_path / "server.log") as base:
        health: list[tuple[int, float]] = []
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                health.append(get(f"{base}/healthz", timeout=10))
                time.sleep(0.05)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            # when: 200 anonymous searches of 3,500 terms, all at once, clients giving up after 40 s
            with ThreadPoolExecutor(200) as pool:
                answers = list(pool.map(lambda _: get(f"{base}/api/goods/?{SEARCH}", 40), range(200)))
            ended = time.monotonic()
            time.sleep(1)
        finally:
            stop.set()
            prober.join()
        # then: every one answered, refused before it cost the database, quickly
        statuses = {status for status, _ in answers}
        assert statuses <= {400, 503}, statuses
        slowest = max(seconds for _, seconds in answers)
        assert slowest < 10, slowest
        # /healthz answered throughout
        assert {status for status, _ in health} == {200}
        print(f"burst: 200 searches answered {sorted(statuses)} in {slowest:.2f} s at most; "
              f"/healthz {len(health)} probes, slowest {max(s for _, s in health) * 1000:.0f} ms")  # fmt: skip
        # and nothing of it runs on after it
        wait_until(lambda: burst_statements() == [], timeout=max(1.0, 30 - (time.monotonic() - ended)))
        # and the shop still serves the same search within bounds
        assert get(f"{base}/api/goods/?search=e,1,2", 10)[0] == 200
