"""Feed fan-out (SPEC §9): N WebSocket clients, delay from a batch's commit to each arrival.

python bench/feed.py [--clients 1000] [--batches 10] [--goods 1000] [--workers 1]
"""

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, percentile, report, server, setup


async def client(
    url: str,
    arrivals: dict[int, list[float]],
    ready: asyncio.Event,
    counter: list[int],
    total: int,
    done: asyncio.Event,
) -> None:
    import websockets

    async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
        first = json.loads(await ws.recv())
        if first["type"] != "snapshot":
            raise RuntimeError(f"connection refused: {first}")
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 1)
            except TimeoutError:
                continue
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "prices":
                arrivals.setdefault(message["seq"], []).append(now)


async def run(
    url: str, clients: int, batches: int, goods: int
) -> tuple[dict[int, float], dict[int, list[float]]]:
    from asgiref.sync import sync_to_async

    from shop.catalog.services.ticks import tick_run
    from shop.realtime.publisher import feed_seq_current

    arrivals: dict[int, list[float]] = {}
    ready, done, counter = asyncio.Event(), asyncio.Event(), [0]
    tasks = []
    for _ in range(clients):
        tasks.append(asyncio.create_task(client(url, arrivals, ready, counter, clients, done)))
        await asyncio.sleep(0.002)  # don't stampede the accept queue
    await asyncio.wait_for(ready.wait(), 180)
    committed: dict[int, float] = {}
    for slot in range(1, batches + 1):
        await sync_to_async(tick_run)(slot=slot)  # returns after commit and publish
        committed[await sync_to_async(feed_seq_current)()] = time.time()
        await asyncio.sleep(1)
    await asyncio.sleep(3)
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return committed, arrivals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--goods", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    setup()
    from bench.seed import goods_in_sale

    goods_in_sale(args.goods)
    # all the clients come from 127.0.0.1: lift the per-address connection limit
    with server(
        workers=args.workers,
        log_name="bench-feed-server.log",
        FEED_MAX_CONNECTIONS_PER_IP="100000",
        FEED_CONNECTS_PER_IP="",
    ) as port:
        committed, arrivals = asyncio.run(
            run(f"ws://127.0.0.1:{port}/ws/price_updates/", args.clients, args.batches, args.goods)
        )
    delays = [arrival - committed[seq] for seq, at in arrivals.items() if seq in committed for arrival in at]
    expected = args.clients * len(committed)
    report(
        "feed",
        clients=args.clients,
        goods_per_batch=args.goods,
        batches=len(committed),
        delivered=len(delays),
        missing=expected - len(delays),
        median_ms=percentile(delays, 50) * 1000,
        p99_ms=percentile(delays, 99) * 1000,
        max_ms=max(delays) * 1000 if delays else float("nan"),
    )
    overflow = (ROOT / "var" / "bench-feed-server.log").read_text().lower().count("capacity")
    report("feed_drops", over_capacity_messages=overflow)


if __name__ == "__main__":
    main()
