"""Webhooks at catalog size: every tick's prices.batch to local receivers while N goods tick.

    python bench/webhooks.py [--goods 10000] [--ticks 10] [--interval 2] [--endpoints 2] [--cap 5]

A real Celery worker of the ``webhooks`` queue (2 processes) sends; the ticks run here, one every
``--interval`` seconds, and record their batch for ``--endpoints`` endpoints that answer 200 and
one more that answers 503 to everything. Printed: what a tick adds to the webhook tables (one
event row holding the batch, one delivery row per endpoint: the payload's bytes as sent and as
PostgreSQL stores them, and the tables' growth with their indexes and TOAST), the delay from a
batch's write to its arrival at a receiver, the ticks' own times with the recording in them, and
the failing endpoint's backlog, held at ``--cap`` (WEBHOOK_MAX_PENDING_BATCHES) by dropping.
Ticks here run in this process (``tick_run``), which records their batches after each commit, as
a worker's tick does; the same ticks with no endpoint are timed first for comparison.
"""

import argparse
import os
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import DATABASE_URL, report, setup, started, summary_ms

TABLES = ("webhooks_webhookevent", "webhooks_webhookdelivery", "webhooks_webhookattempt")


def tables_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(t)) FROM unnest(%s::regclass[]) AS t", [list(TABLES)]
        )
        return int(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--goods", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds from one tick to the next")
    parser.add_argument("--endpoints", type=int, default=2, help="endpoints that take every batch")
    parser.add_argument("--cap", type=int, default=5, help="WEBHOOK_MAX_PENDING_BATCHES")
    args = parser.parse_args()
    webhook_env = {
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_DELIVERY": "celery",
        "WEBHOOK_MAX_PENDING_BATCHES": str(args.cap),
    }
    os.environ.update(webhook_env)  # before Django reads its settings
    setup()
    from django.db import connection

    from bench.seed import goods_in_sale
    from shop.catalog.services.ticks import tick_run
    from shop.webhooks.models import WebhookDelivery, WebhookEvent
    from shop.webhooks.services.endpoints import endpoint_create
    from shop.webhooks.tests.receiver import receiver

    goods_in_sale(args.goods)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}, webhooks_webhookendpoint RESTART IDENTITY CASCADE")
    celery = str(Path(sys.executable).with_name("celery"))
    worker = [celery, "-A", "config", "worker", "-Q", "webhooks", "--concurrency=2", "--loglevel=WARNING"]
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "LOG_LEVEL": "WARNING", **webhook_env}
    with ExitStack() as stack:
        failing = stack.enter_context(receiver())
        failing.script = [503] * 1_000_000
        receivers = [stack.enter_context(receiver()) for _ in range(args.endpoints)]
        stack.enter_context(started(worker, env, "bench-webhooks-worker.log"))
        # The same ticks with no endpoint, for comparison: recording the batches is in a tick's time.
        alone = []
        for slot in range(-min(args.ticks, 5), 0):
            started_at = time.perf_counter()
            tick_run(slot=slot)
            alone.append(time.perf_counter() - started_at)
        for hook in receivers:
            endpoint_create(url=hook.url, events=["prices.batch"])
        dropping = endpoint_create(url=failing.url, events=["prices.batch"])

        def all_arrived(count: int, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if all(len(hook.received) >= count for hook in receivers):
                    return True
                time.sleep(0.05)
            return False

        # Warm-up (not measured): one tick, every batch of it arrived everywhere.
        tick_run(slot=0)
        warm = WebhookEvent.objects.count()  # a tick records one batch per chunk it commits
        if not all_arrived(warm, 60):
            raise SystemExit("bench=webhooks error=the warm-up tick was not delivered within 60 s")
        before = tables_bytes()
        ticks, next_at = [], time.monotonic()
        for slot in range(1, args.ticks + 1):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += args.interval
            started_at = time.perf_counter()
            result = tick_run(slot=slot)  # its batch is published and recorded before it returns
            ticks.append(time.perf_counter() - started_at)
            assert result.goods_count == args.goods, result
        events = WebhookEvent.objects.count() - warm
        arrived = all_arrived(warm + events, 120)
        grown = tables_bytes() - before
        lags = []
        for hook in receivers:
            for request in hook.received[warm:]:
                wall = time.time() - (time.monotonic() - request.at)
                lags.append(wall - datetime.fromisoformat(request.json["data"]["at"]).timestamp())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT avg(octet_length(body)), avg(pg_column_size(body)) FROM webhooks_webhookevent "
                "WHERE type = 'prices.batch'"
            )
            payload, stored = (float(v) for v in cursor.fetchone())
        backlog = WebhookDelivery.objects.filter(endpoint=dropping, status="pending").count()
        dropped = WebhookDelivery.objects.filter(endpoint=dropping, status="dropped").count()
    report(
        "webhooks",
        goods=args.goods,
        ticks=args.ticks,
        endpoints=args.endpoints + 1,
        events_per_tick=events / args.ticks,
        payload_kb=payload / 1024,
        stored_kb=stored / 1024,
        tables_kb_per_tick=grown / args.ticks / 1024,
        all_arrived=arrived,
        **{f"lag_{k}": v for k, v in summary_ms(lags).items()},
    )
    report("webhooks-tick", goods=args.goods, endpoints=0, **summary_ms(alone))
    report("webhooks-tick", goods=args.goods, endpoints=args.endpoints + 1, **summary_ms(ticks))
    report("webhooks-backlog", cap=args.cap, failing_pending=backlog, failing_dropped=dropped)


if __name__ == "__main__":
    main()
