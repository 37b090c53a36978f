"""The feed cannot be turned against the server (a private Redis and server).

With 10,000 goods repriced every second, 50 connections each ask for the whole snapshot
10 times a second and read slowly. The server answers each at most once a second with
bytes rendered once for all, drops those that fall too far behind, and keeps serving:
``/healthz`` answers promptly, its memory stays bounded, and a reading client gets every
batch within a second of its commit.
"""

import asyncio
import contextlib
import json
import os
import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from pytest_django.fixtures import Settings

from shop.catalog.services.prices import prices_record
from shop.realtime.limits import CLOSE_TOO_SLOW
from shop.realtime.publisher import feed_seq_current
from shop.realtime.tests.flood import priced_goods, private_feed_env, rss_mb
from shop.tests.live import PYTHON, RedisProcess, asgi_server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GOODS = 10_000
ATTACKERS = 50
ATTACK_SECONDS = 15
PREFIX = "tickshop-feed-attack-test"
TARGETS = {"healthz_p99": 0.5, "lag_p99": 1.0, "rss_growth_mb": 200}
BOUNDS = {"healthz_p99": 2.0, "lag_p99": 3.0, "rss_growth_mb": 400}

record = database_sync_to_async(prices_record)
current_seq = database_sync_to_async(feed_seq_current)


async def tick_every_second(goods: list[int], committed: dict[int, float], stop: asyncio.Event) -> None:
    """Reprice every goods once a second (a tick of the whole catalog) until ``stop``;
    ``committed``: each batch's seq -> when its write had committed (and was published)."""
    ticks = 0
    while not stop.is_set():
        started = time.monotonic()
        await record(amounts={g: Decimal(10 + (g + ticks) % 90) for g in goods}, source="manual")
        committed[await current_seq()] = time.time()  # this test is the only publisher
        ticks += 1
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


async def read_everything(url: str, received: dict[int, float], stop: asyncio.Event) -> None:
    """A client that reads every message; ``received``: each batch's seq -> when it arrived."""
    async with websockets.connect(url, max_size=None) as ws:
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                continue
            if message["type"] == "prices":
                received[message["seq"]] = time.time()


# The attackers run in a process of their own, so that reading their snapshots costs this
# process (which measures) nothing: each asks for the whole snapshot 10 times a second and
# reads one message a second; at the end it prints, per attacker, the snapshots it got and
# the close code it saw.
ATTACKERS_SCRIPT = """
import asyncio, json, sys, time
import websockets
from websockets.exceptions import ConnectionClosed

url, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

async def attack(deadline):
    got = 0
    async with websockets.connect(url, max_size=None, max_queue=1, compression=None) as ws:
        try:
            last_read = time.monotonic()
            while time.monotonic() < deadline:
                await ws.send(json.dumps({"action": "subscribe", "goods": "all"}))
                await asyncio.sleep(0.1)
                if time.monotonic() - last_read >= 1.0:
                    got += (await ws.recv()).startswith('{"type":"snapshot"')
                    last_read = time.monotonic()
        except ConnectionClosed:
            pass
    return got, ws.close_code

async def main():
    deadline = time.monotonic() + seconds
    print(json.dumps(await asyncio.gather(*(attack(deadline) for _ in range(clients)))))

asyncio.run(main())
"""


async def until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.1)


def probe_health(base: str, timings: list[float], statuses: list[int], stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:  # noqa: S310 - local
                statuses.append(response.status)
        except OSError:
            statuses.append(0)
        timings.append(time.monotonic() - started)
        time.sleep(0.1)


def test_snapshot_floods_neither_stall_the_server_nor_grow_it(
    usd: Any, tmp_path: Path, redis: RedisProcess, settings: Settings
) -> None:
    # given: 10,000 goods with a price, a server on a private Redis (this test publishes there)
    goods = priced_goods(GOODS)
    # the attackers all come from 127.0.0.1 here
    env = private_feed_env(settings, redis, PREFIX, FEED_CONNECTS_PER_IP="", FEED_MAX_CONNECTIONS_PER_IP="0")
    with asgi_server_process(env, tmp_path / "server.log") as (base, server):
        url = base.replace("http://", "ws://") + "/ws/price_updates/"
        committed: dict[int, float] = {}
        received: dict[int, float] = {}
        outcome: list[tuple[int, int | None]] = []  # (snapshots, close code) of each attacker
        timings: list[float] = []
        statuses: list[int] = []
        attack: list[float] = []  # when it started, when it ended

        async def scenario() -> list[float]:
            stop_ticks, stop_reader = asyncio.Event(), asyncio.Event()
            ticker = asyncio.create_task(tick_every_second(goods, committed, stop_ticks))
            reader = asyncio.create_task(read_everything(url, received, stop_reader))
            await asyncio.sleep(5)  # warm up: the first snapshots and batches, the caches filled
            memory = [rss_mb(server.pid)]
            # when: the attack
            attack[:] = [time.time()]
            attackers = await asyncio.create_subprocess_exec(
                PYTHON, "-c", ATTACKERS_SCRIPT, url, str(ATTACKERS), str(ATTACK_SECONDS),
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            while attackers.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(attackers.wait(), 1)
                memory.append(rss_mb(server.pid))
            attack.append(time.time())
            outcome.extend(json.loads(await attackers.stdout.read()))  # type: ignore[union-attr]
            stop_ticks.set()
            await ticker
            # the reader gets every batch (a deadline, not a fixed wait)
            await asyncio.wait_for(until(lambda: set(committed) <= set(received)), 30)
            stop_reader.set()
            await reader
            return memory

        stop_probe = threading.Event()
        probe = threading.Thread(target=probe_health, args=(base, timings, statuses, stop_probe))
        probe.start()
        try:
            memory = asyncio.run(asyncio.wait_for(scenario(), 120))
        finally:
            stop_probe.set()
            probe.join()

    timings.sort()
    p99 = timings[int(len(timings) * 0.99)]
    seqs = sorted(received)
    lags = sorted(received[seq] - committed[seq] for seq in seqs if seq in committed)
    lag_p99 = lags[int(len(lags) * 0.99)]
    snapshots, closes = [got for got, _ in outcome], [code for _, code in outcome]
    print(  # docs/operations.md quotes these figures
        f"feed attack: {ATTACKERS} clients x subscribe all 10/s over {GOODS} goods for {ATTACK_SECONDS} s; "
        f"/healthz p99 {p99 * 1000:.0f} ms over {len(timings)}; reader lag p99 {lag_p99 * 1000:.0f} ms over "
        f"{len(lags)} batches; RSS {memory[0]:.0f} -> {max(memory):.0f} MB; snapshots per attacker "
        f"max {max(snapshots)}; closed too slow: {closes.count(CLOSE_TOO_SLOW)}"
    )
    # then: /healthz answered throughout, the reading client got every batch, no attacker got
    # more than one snapshot a second, and the server's memory stayed bounded. The figures are
    # held to the targets (SPEC §9 style: p99 /healthz < 500 ms, lag < 1 s, RSS < 200 MB) by
    # `make bench` on a quiet machine (TARGETS, as bench/run.py sets); the suite, which runs
    # beside other tests on two cores, only bounds them.
    limits = TARGETS if os.environ.get("FEED_ATTACK_TARGETS") else BOUNDS
    assert set(statuses) == {200}, statuses
    # the catalog kept being repriced under attack (a tick of 10,000 goods may take longer than
    # its second on a loaded machine: at least one batch every 3 s)
    during = [seq for seq, at in committed.items() if attack[0] <= at <= attack[1]]
    assert len(during) >= ATTACK_SECONDS // 3, (attack, committed)
    assert set(committed) <= set(received) and seqs == list(range(seqs[0], seqs[-1] + 1)), "a batch was lost"
    assert max(snapshots) <= ATTACK_SECONDS + 3, snapshots
    assert p99 < limits["healthz_p99"], timings[-10:]
    assert lag_p99 < limits["lag_p99"], lags[-10:]
    assert max(memory) - memory[0] < limits["rss_growth_mb"], memory
