"""A WebSocket client that never reads, while large batches flow (a private Redis and server).

The server must neither grow without bound nor stall the other clients: a
second client gets every batch promptly, the server's memory stays bounded,
and the client that stopped reading is disconnected.
"""

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.utils.dateparse import parse_datetime
from pytest_django.fixtures import Settings

from shop.catalog.services.prices import prices_record
from shop.realtime.tests.flood import priced_goods, private_feed_env, rss_mb
from shop.tests.live import RedisProcess, asgi_server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GOODS = 2_000  # a batch of every goods is ~100 KB of JSON
FLOOD_SECONDS = 25
PREFIX = "tickshop-slow-client-test"

record = database_sync_to_async(prices_record)


@contextmanager
def feed_server(env: dict[str, str], log: Path) -> Iterator[tuple[int, int]]:
    """``manage.py serve`` on a free port; yields (port, pid) so its memory can be read."""
    with asgi_server_process(env, log) as (base, proc):
        yield int(base.rsplit(":", 1)[1]), proc.pid


def connect_and_never_read(port: int) -> socket.socket:
    """A WebSocket handshake by hand, then silence: the socket is never read again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/price_updates/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += sock.recv(1)  # byte by byte: not one byte of the frames that follow
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Drain what the kernel holds; True once the server's end is closed (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


async def flood(goods: list[int], seconds: float) -> int:
    """Reprice every goods, batch after batch, for ``seconds``; returns how many batches."""
    batches, deadline, step = 0, time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        step += 1
        amounts = {g: Decimal(10 + (g + step) % 90) + Decimal("0.25") for g in goods}
        await record(amounts=amounts, source="manual")
        batches += 1
        await asyncio.sleep(0.02)
    return batches


async def read_everything(url: str, seqs: list[int], delays: list[float], stop: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        while not stop.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                continue
            if message["type"] == "prices":
                seqs.append(message["seq"])
                at = parse_datetime(message["at"])
                assert at is not None
                delays.append(time.time() - at.timestamp())


def test_a_client_that_never_reads_costs_bounded_memory_and_stalls_nobody(
    usd: Any, tmp_path: Path, redis: RedisProcess, settings: Settings
) -> None:
    # given: 2,000 goods with a price; a server on a private Redis; this test publishes there too
    goods = priced_goods(GOODS)
    env = private_feed_env(
        settings, redis, PREFIX, FEED_SEND_TIMEOUT_SECONDS="5", FEED_HEARTBEAT_SECONDS="60"
    )
    log = tmp_path / "server.log"
    with feed_server(env, log) as (port, pid):
        url = f"ws://127.0.0.1:{port}/ws/price_updates/"
        seqs: list[int] = []
        delays: list[float] = []

        async def scenario() -> tuple[int, list[float]]:
            stop = asyncio.Event()
            reader = asyncio.create_task(read_everything(url, seqs, delays, stop))
            await asyncio.sleep(1)
            silent = connect_and_never_read(port)  # when: a client connects and never reads
            await flood(goods, 3)  # warm up: caches, buffers and the slow socket fill
            baseline = rss_mb(pid)
            samples = [baseline]
            task = asyncio.create_task(flood(goods, FLOOD_SECONDS))
            while not task.done():
                await asyncio.sleep(1)
                samples.append(rss_mb(pid))
            batches = task.result()
            await asyncio.sleep(2)
            stop.set()
            await reader
            # then: the silent client was dropped while the server kept running
            assert await asyncio.to_thread(closed_by_server, silent, 15)
            silent.close()
            return batches, samples

        batches, samples = asyncio.run(asyncio.wait_for(scenario(), 120))
        output = log.read_text()

    # the reading client got every batch, in order, promptly (however many a loaded machine made)
    assert batches >= 10 and len(seqs) >= batches, (batches, seqs)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a batch was lost"
    delays.sort()
    assert delays[int(len(delays) * 0.99)] < 1.0, delays[-10:]
    # the server's memory stayed bounded while ~100 KB batches flowed at the silent client: it
    # levels off (without the limits it climbs by ~1 MB a second, the silent client's backlog)
    assert max(samples) - samples[0] < 40, samples
    second_half = samples[len(samples) // 2 :]
    assert max(second_half) - second_half[0] < 3, f"still growing: {samples}"
    # and it said why it dropped the silent client
    assert "has not read" in output or "cannot keep up" in output, output[-2000:]
    print(  # docs/operations.md quotes these figures
        f"slow client: {batches} batches of {GOODS} goods in {FLOOD_SECONDS} s; reader p99 "
        f"{delays[int(len(delays) * 0.99)] * 1000:.0f} ms; server RSS {samples[0]:.0f} -> {max(samples):.0f} MB"
    )
