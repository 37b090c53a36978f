"""Metrics and the ticker's health through real processes: two web servers, a Celery worker and
beat sharing one metrics directory, one database and one Redis."""

import asyncio
import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import websockets

from shop.core.metrics import metrics_dir_prepare, process_identifier
from shop.core.schedules import schedules_ensure
from shop.tests.factories import GoodsFactory, SaleFactory
from shop.tests.live import asgi_server, call, celery, next_of, service_env, stop, wait_until
from shop.tests.metrics import TOKEN, sample, scrape

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def stack_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return service_env(
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        FEED_HEARTBEAT_SECONDS="1",
        **extra,
    )


def test_a_scrape_sums_every_web_and_celery_process(usd: Any, tmp_path: Path) -> None:
    # given: a running sale; two web servers, a worker and beat share the metrics directory
    goods = GoodsFactory(price="1.00")
    SaleFactory(goods=[goods])
    schedules_ensure()
    env = stack_env(tmp_path, PRICE_TICK_SECONDS="1")
    with ExitStack() as stack:
        one = stack.enter_context(asgi_server(env, tmp_path / "one.log"))
        two = stack.enter_context(asgi_server(env, tmp_path / "two.log"))
        stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        stack.enter_context(celery("beat", env, tmp_path / "beat.log"))

        # then: the worker's ticks are in the web server's scrape
        wait_until(lambda: sample(scrape(one), "tickshop_tick_duration_seconds_count") >= 2, timeout=120)
        text = scrape(one)
        assert sample(text, "tickshop_tick_goods_sum") >= 2
        assert time.time() - sample(text, "tickshop_tick_last_success_timestamp_seconds") < 30

        # a request answered by the second server is counted under its URL pattern
        assert call(f"{two}/api/goods/{goods.id}/")[0] == 200
        text = scrape(one)
        assert sample(text, "tickshop_http_requests_total", route="/api/goods/{pk}/", status="200") == 1
        assert 'route="/api/goods/' + str(goods.id) not in text

        # a feed client of the second server shows in the first one's scrape, with its batches' lag
        async def connected_to_two() -> tuple[float, float, float]:
            async with websockets.connect(two.replace("http", "ws") + "/ws/price_updates/") as ws:
                await next_of(ws, "snapshot")
                await next_of(ws, "prices")
                await next_of(ws, "prices")
                # A batch's lag is counted once the server has written it, which is a moment after
                # this client can have read it: wait for the second one's (the connection still open).
                await asyncio.to_thread(
                    wait_until, lambda: sample(scrape(one), "tickshop_feed_batch_lag_seconds_count") >= 2
                )
                while_open = scrape(one)
            await asyncio.sleep(0)
            return (
                sample(while_open, "tickshop_feed_connections"),
                sample(while_open, "tickshop_feed_batch_lag_seconds_count"),
                sample(while_open, "tickshop_feed_batch_lag_seconds_sum"),
            )

        connections, lag_count, lag_sum = asyncio.run(asyncio.wait_for(connected_to_two(), 60))
        assert connections == 1
        assert lag_count >= 2
        assert 0 < lag_sum / lag_count < 5
        wait_until(lambda: sample(scrape(one), "tickshop_feed_connections") == 0, timeout=15)

        # a server killed with its clients: its connections stop counting at the next scrape
        async def client_of_a_killed_server() -> float:
            async with websockets.connect(two.replace("http", "ws") + "/ws/price_updates/") as ws:
                await next_of(ws, "snapshot")
                assert sample(scrape(one), "tickshop_feed_connections") == 1
                kill_server(two)
                with pytest.raises(websockets.ConnectionClosed):
                    await read_until_closed(ws)
            return sample(scrape(one), "tickshop_feed_connections")

        assert asyncio.run(asyncio.wait_for(client_of_a_killed_server(), 60)) == 0
        # and counters of every process are still summed (the tick count never goes down)
        assert sample(scrape(one), "tickshop_tick_duration_seconds_count") >= 2


async def read_until_closed(ws: Any) -> None:
    while True:
        await ws.recv()


def kill_server(base: str) -> None:
    """SIGKILL the `serve` process listening at ``base`` (found by its port); returns once it is
    dead. (Its clients see their connections close while it is still exiting: a scrape then could
    still find it alive. The scrape after its death is the one that must not count them.)"""
    port = base.rsplit(":", 1)[1]
    server = next((pid for pid in os.listdir("/proc") if pid.isdigit() and serves(int(pid), port)), None)
    assert server is not None, f"no server on port {port}"
    os.kill(int(server), signal.SIGKILL)
    wait_until(lambda: dead(int(server)))


def serves(pid: int, port: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"serve" in cmdline and f"PORT={port}".encode() in environ


def dead(pid: int) -> bool:
    """Exited: gone, or a zombie its parent (this test's process) has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def test_healthz_says_stalled_while_beat_is_frozen(usd: Any, tmp_path: Path) -> None:
    # given: a running sale, a web server, a worker and beat ticking every 2 s
    SaleFactory(goods=[GoodsFactory(price="1.00")])
    schedules_ensure()
    env = stack_env(tmp_path, PRICE_TICK_SECONDS="2")
    with ExitStack() as stack:
        web = stack.enter_context(asgi_server(env, tmp_path / "web.log"))
        stack.enter_context(celery("worker", env, tmp_path / "worker.log"))
        beat = stack.enter_context(celery("beat", env, tmp_path / "beat.log"))

        def ticks(strict: bool = False) -> tuple[int, dict[str, Any]]:
            status, body = call(f"{web}/healthz" + ("?strict=1" if strict else ""))
            return status, body["ticks"]

        wait_until(
            lambda: ticks(strict=True) == (200, ticks()[1]) and ticks()[1]["status"] == "ok", timeout=120
        )
        skipped_before = sample(scrape(web), "tickshop_tick_slots_skipped_total")
        # when: beat is frozen
        os.killpg(beat.pid, signal.SIGSTOP)
        try:
            # then: after 3 intervals without a tick the ticker is stalled: 200 plain, 503 strict
            wait_until(lambda: ticks()[1]["status"] == "stalled", timeout=30)
            status, body = call(f"{web}/healthz")
            assert status == 200 and body["status"] == "ok"
            status, body = call(f"{web}/healthz?strict=1")
            assert status == 503 and body["ticks"]["status"] == "stalled"
            assert body["failing"] == ["ticks"]
        finally:
            os.killpg(beat.pid, signal.SIGCONT)
        # when beat goes on: ok again, and the slots it missed are counted as skipped
        wait_until(lambda: ticks(strict=True)[0] == 200 and ticks()[1]["status"] == "ok", timeout=30)
        # (the worker counts them just after the commit /healthz has seen)
        wait_until(
            lambda: sample(scrape(web), "tickshop_tick_slots_skipped_total") >= skipped_before + 2, timeout=30
        )
        stop(beat)


def test_start_up_removes_the_files_of_dead_processes(tmp_path: Path, settings: Any) -> None:
    # given: files of a dead process of this host, of a live one, and of another host
    settings.PROMETHEUS_MULTIPROC_DIR = tmp_path
    host = process_identifier().rsplit("-", 1)[0]
    dead = subprocess_pid_that_exited()
    files = {
        "dead": tmp_path / f"counter_{host}-{dead}.db",
        "dead_gauge": tmp_path / f"gauge_livesum_{host}-{dead}.db",
        "alive": tmp_path / f"counter_{process_identifier()}.db",
        "other_host": tmp_path / f"counter_elsewhere-{dead}.db",
    }
    for path in files.values():
        path.write_bytes(b"")
    # when
    metrics_dir_prepare()
    # then
    assert {name for name, path in files.items() if path.exists()} == {"alive", "other_host"}


def subprocess_pid_that_exited() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_scrape_removes_the_zero_files_of_dead_processes(
    tmp_path: Path, settings: Any, client: Any
) -> None:
    # given: a short-lived command left files of zeros, a dead worker left real counts
    settings.PROMETHEUS_MULTIPROC_DIR = tmp_path
    settings.METRICS_TOKEN = TOKEN
    host = process_identifier().rsplit("-", 1)[0]
    dead = subprocess_pid_that_exited()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = (
        "import os, sys; from prometheus_client import values, Counter;"
        f"values.ValueClass = values.MultiProcessValue(lambda: '{host}-{dead}');"
        "c = Counter('tickshop_orders', 'x', ('outcome',)); c.labels('created').inc(float(sys.argv[1]))"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code, "0"], env=env, check=True)
    zeros = tmp_path / f"counter_{host}-{dead}.db"
    assert zeros.exists()
    # when: scraped
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    # then: the zeros are gone; a dead process' counts stay in the sum
    assert response.status_code == 200
    assert not zeros.exists()
    subprocess.run([sys.executable, "-c", code, "3"], env=env, check=True)
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert zeros.exists()
    assert sample(text, "tickshop_orders_total", outcome="created") == 3


def test_feed_drops_are_counted_by_reason(usd: Any, tmp_path: Path) -> None:
    # given: a server allowing one feed connection per address and messages of 1 KiB
    env = stack_env(tmp_path, FEED_MAX_CONNECTIONS_PER_IP="1", FEED_MAX_MESSAGE_BYTES="1024")
    with asgi_server(env, tmp_path / "web.log") as base:
        feed = base.replace("http", "ws") + "/ws/price_updates/"

        async def scenario() -> None:
            async with websockets.connect(feed) as first:
                await next_of(first, "snapshot")
                # when: a second connection from the same address, then an oversized message
                async with websockets.connect(feed) as second:
                    assert (await next_of(second, "error"))["code"] == "too_many_connections"
                await first.send("x" * 2048)
                assert (await next_of(first, "error"))["code"] == "message_too_big"

        asyncio.run(asyncio.wait_for(scenario(), 30))
        # then
        text = scrape(base)
        assert sample(text, "tickshop_feed_dropped_total", reason="too_many_connections") == 1
        assert sample(text, "tickshop_feed_dropped_total", reason="message_too_big") == 1
        assert sample(text, "tickshop_feed_dropped_total", reason="slow_reader") == 0
        wait_until(lambda: sample(scrape(base), "tickshop_feed_connections") == 0, timeout=15)
